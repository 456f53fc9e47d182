/**
 * The weekly curator digest: for each active curator, the assignments of their issued
 * recommendations that wait for review, are overdue, or fall due within the week. One email per
 * curator per week, keyed `digest:<curator>:<week>` in the outbox, so a retried or re-triggered
 * run sends nothing twice; a curator with nothing to report gets no email.
 */
import { heartbeat } from '@temporalio/activity';
import { DateTime } from 'luxon';
import type { DigestItem, EmailRenderer } from '../../notifications/render';
import type { AssignmentView, Recommendation } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import type { DeliveryResult } from './email';

/** Heartbeats every few seconds while `work` runs. */
async function beating<T>(work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat(), 2_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Items listed per section; the counts say how many there are in all. */
const LIST_LIMIT = 20;

export interface DigestRunResult {
  week: string;
  curators: number;
  sent: number;
  skipped: number;
}

export function createDigestActivities({
  repos,
  renderer,
  deliver,
  baseUrl,
  timezone,
}: {
  repos: Repositories;
  renderer: EmailRenderer;
  deliver: (key: string) => Promise<DeliveryResult>;
  baseUrl: string;
  timezone: string;
}) {
  return {
    /** `at`: the moment the schedule fired (ISO); the week is the seven days from its date. */
    async sendCuratorDigests({ at }: { at: string }): Promise<DigestRunResult> {
      const start = DateTime.fromISO(at, { zone: timezone }).startOf('day');
      const end = start.plus({ days: 6 }).endOf('day');
      const week = `${start.toFormat("kkkk-'W'WW")}`;
      const curators = (await repos.users.list({ role: 'curator' })).filter((u) => u.active);
      const result: DigestRunResult = { week, curators: curators.length, sent: 0, skipped: 0 };
      const failures: unknown[] = [];

      for (const curator of curators) {
        heartbeat(curator._id);
        const key = `digest:${curator._id}:${week}`;
        const existing = await repos.outbox.get(key);
        if (!existing) {
          const recs = await repos.recommendations.issuedCreatedBy(curator._id);
          if (recs.length === 0) {
            result.skipped += 1;
            continue;
          }
          const found = await repos.assignments.digest(recs.map((r) => r._id), new Date(at), end.toJSDate(), LIST_LIMIT);
          const counts = { review: found.review.total, overdue: found.overdue.total, dueSoon: found.dueSoon.total };
          if (counts.review + counts.overdue + counts.dueSoon === 0) {
            result.skipped += 1;
            continue;
          }
          const byId = new Map(recs.map((r) => [r._id, r]));
          const orgCodes = [...new Set([...found.review.items, ...found.overdue.items, ...found.dueSoon.items].map((a) => a.organization))];
          const orgs = new Map((await repos.organizations.list({ codes: orgCodes })).map((o) => [o._id, o.name]));
          const item = (a: AssignmentView): DigestItem => {
            const rec = byId.get(a.recommendationId) as Recommendation;
            return {
              organization: orgs.get(a.organization) ?? a.organization,
              source: rec.source,
              text: rec.text,
              due: a.due.toISOString(),
              link: `${baseUrl}/assignments/${encodeURIComponent(a._id)}`,
            };
          };
          const rendered = renderer.render('curator-digest', {
            curator: curator.name,
            weekStart: start.toJSDate().toISOString(),
            weekEnd: end.toJSDate().toISOString(),
            review: found.review.items.map(item),
            overdue: found.overdue.items.map(item),
            dueSoon: found.dueSoon.items.map(item),
            counts,
            link: `${baseUrl}/assignments`,
          });
          await repos.outbox.record({ _id: key, template: 'curator-digest', to: [curator.email], ...rendered, context: { event: 'curator-digest' } });
        }
        try {
          // Heartbeats while the SMTP server takes its time: a stalled send is retried, not duplicated.
          const delivered = await beating(() => deliver(key));
          if (delivered === 'sent') result.sent += 1;
        } catch (error) {
          // One curator's failing address must not hold back the others' digests: go on, retry after.
          failures.push(error);
        }
      }
      // A temporary failure (SMTP down) is retried by Temporal; digests already sent are skipped then.
      if (failures.length > 0) throw failures[0];
      return result;
    },
  };
}
