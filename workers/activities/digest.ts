/**
 * The weekly curator digest: for each active curator, the assignments of their issued
 * recommendations that wait for review, are overdue, or fall due within the week. One email per
 * curator per week, keyed `digest:<curator>:<week>` in the outbox, so a retried or re-triggered
 * run sends nothing twice; a curator with nothing to report gets no email.
 *
 * Each week's run is recorded (store/digest-runs.ts). A week without a digest is never skipped
 * silently: the run that gives up at its deadline tells the administrators (reportMissedDigest),
 * and the next run finds every earlier week that was not sent, tells the administrators about any
 * nobody reported yet (the node was down), and tells each curator which digests they did not get.
 */
import { Context, heartbeat } from '@temporalio/activity';
import { DateTime } from 'luxon';
import type { DigestItem, DigestWeekRange, EmailRenderer } from '../../notifications/render';
import type { DigestWeek } from '../../store/digest-runs';
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
/** How far back a run looks for weeks without a digest, and how many it names to a curator. */
const LOOK_BACK_WEEKS = 52;
const MISSED_LISTED = 12;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const range = (w: DigestWeek): DigestWeekRange => ({ weekStart: w.weekStart.toISOString(), weekEnd: w.weekEnd.toISOString() });

/** Why a week was missed, as administrators read it. */
export const MISSED_REASONS = {
  notRun: 'Сервис не работал в день рассылки: сводка не запускалась.',
  unfinished: 'Рассылка началась, но не завершилась: сервис остановился до её конца.',
  timedOut: 'Рассылка не уложилась в отведённое ей время.',
  failed: 'Рассылка остановлена ошибкой.',
};

export interface ReportMissedDigestInput {
  /** The moment the schedule fired (ISO), as given to sendCuratorDigests. */
  at: string;
  /** The run gave up at its deadline, rather than on an error no retry would fix. */
  timedOut: boolean;
  /** The failure as the workflow saw it: used when the run recorded no error of its own. */
  message: string;
}

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
  /** The seven days from the date the schedule fired, in the authority's zone. */
  const weekOf = (at: string | DateTime): DigestWeek => {
    const start = (typeof at === 'string' ? DateTime.fromISO(at, { zone: timezone }) : at).startOf('day');
    return { week: start.toFormat("kkkk-'W'WW"), weekStart: start.toJSDate(), weekEnd: start.plus({ days: 6 }).endOf('day').toJSDate() };
  };

  /**
   * Earlier weeks whose digest did not go out, oldest first: every week since the last one sent
   * (within a year), or, before any was sent, the weeks recorded unsent. `unreported`: those no
   * run reported yet, because none ran that week or it stopped without recording why.
   */
  async function unsentWeeks(current: DigestWeek): Promise<{ weeks: DigestWeek[]; unreported: { notRun: DigestWeek[]; unfinished: DigestWeek[] } }> {
    const last = await repos.digestRuns.lastSentBefore(current.week);
    const recorded = new Map((await repos.digestRuns.unsentBetween(current.week, last?._id)).map((r) => [r._id, r]));
    let weeks: DigestWeek[] = [...recorded.values()].map((r) => ({ week: r._id, weekStart: r.weekStart, weekEnd: r.weekEnd }));
    if (last) {
      weeks = [];
      const since = DateTime.fromJSDate(current.weekStart, { zone: timezone }).minus({ weeks: LOOK_BACK_WEEKS });
      let day = DateTime.fromJSDate(last.weekStart, { zone: timezone }).plus({ weeks: 1 });
      if (day < since) day = since;
      for (; ; day = day.plus({ weeks: 1 })) {
        const w = weekOf(day);
        if (w.week >= current.week) break;
        // The zone changed since that week was sent: its start may fall in the week before.
        if (w.week <= last._id) continue;
        const stored = recorded.get(w.week);
        weeks.push(stored ? { week: stored._id, weekStart: stored.weekStart, weekEnd: stored.weekEnd } : w);
      }
    }
    const status = (w: DigestWeek) => recorded.get(w.week)?.status;
    return {
      weeks,
      unreported: { notRun: weeks.filter((w) => status(w) === undefined), unfinished: weeks.filter((w) => status(w) === 'running') },
    };
  }

  /**
   * Mails the administrators about the weeks not reported yet, then records them as missed. In that
   * order: a run cut off between the two reports again under the same outbox key, which keeps the
   * email once, where the other order could record a week as missed that nobody was told of.
   */
  async function reportMissed(weeks: DigestWeek[], reason: string, counts: { sent: number; curators: number }): Promise<void> {
    const due = await repos.digestRuns.unreported(weeks);
    if (due.length === 0) return;
    const admins = (await repos.users.list({ role: 'admin' })).filter((u) => u.active);
    const key = `digest-missed:${due[0].week}${due.length > 1 ? `..${due[due.length - 1].week}` : ''}`;
    const rendered = renderer.render('digest-missed', { weeks: due.map(range), reason, ...counts, link: `${baseUrl}/admin/outbox` });
    await repos.outbox.record({ _id: key, template: 'digest-missed', to: admins.map((a) => a.email).sort(), ...rendered, context: { event: 'digest-missed' } });
    await repos.digestRuns.missed(due, reason);
    // Not delivered now (SMTP down, say): the delivery lane tries again.
    await beating(() => deliver(key));
  }

  return {
    /** `at`: the moment the schedule fired (ISO); the week is the seven days from its date. */
    async sendCuratorDigests({ at }: { at: string }): Promise<DigestRunResult> {
      const current = weekOf(at);
      const { week } = current;
      const end = DateTime.fromJSDate(current.weekEnd);
      await repos.digestRuns.begin(current);
      try {
        const gap = await unsentWeeks(current);
        await reportMissed(gap.unreported.notRun, MISSED_REASONS.notRun, { sent: 0, curators: 0 });
        await reportMissed(gap.unreported.unfinished, MISSED_REASONS.unfinished, { sent: 0, curators: 0 });
        const result = await sendAll(current, new Date(at), end, gap.weeks);
        await repos.digestRuns.sent(week, result, gap.weeks.map((w) => w.week));
        return result;
      } catch (error) {
        // Best effort: the store may be what failed.
        await repos.digestRuns.attemptFailed(week, errorText(error)).catch(() => undefined);
        throw error;
      }
    },

    /**
     * The run gave up (its deadline passed, or an error no retry fixes): the week is recorded as
     * missed and the administrators are told, once. A week already sent stays sent.
     */
    async reportMissedDigest({ at, timedOut, message }: ReportMissedDigestInput): Promise<{ reported: boolean }> {
      const current = weekOf(at);
      const run = await repos.digestRuns.get(current.week);
      if (run?.status === 'sent' || run?.status === 'missed') return { reported: false };
      const detail = run?.lastError ?? message;
      const reason = `${timedOut ? MISSED_REASONS.timedOut : MISSED_REASONS.failed}${detail ? ` Последняя ошибка: ${detail}` : ''}`;
      const curators = (await repos.users.list({ role: 'curator' })).filter((u) => u.active);
      let sent = 0;
      for (const c of curators) if ((await repos.outbox.summary(`digest:${c._id}:${current.week}`))?.status === 'sent') sent += 1;
      await reportMissed([current], reason, { sent, curators: curators.length });
      return { reported: true };
    },
  };

  /** `now`: the moment the schedule fired, from which «overdue» and «due this week» are counted. */
  async function sendAll(current: DigestWeek, now: Date, end: DateTime, missedWeeks: DigestWeek[]): Promise<DigestRunResult> {
    const { week } = current;
    const curators = (await repos.users.list({ role: 'curator' })).filter((u) => u.active);
    const result: DigestRunResult = { week, curators: curators.length, sent: 0, skipped: 0 };
    const failures: unknown[] = [];

    for (const curator of curators) {
      heartbeat(curator._id);
      // Past the run's deadline the workflow has reported the week missed: stop rather than send it late.
      if (Context.current().cancellationSignal.aborted) throw new Error('digest run cancelled');
      const key = `digest:${curator._id}:${week}`;
      const existing = await repos.outbox.summary(key);
      if (!existing) {
        const recs = await repos.recommendations.issuedCreatedBy(curator._id);
        if (recs.length === 0) {
          result.skipped += 1;
          continue;
        }
        const found = await repos.assignments.digest(recs.map((r) => r._id), now, end.toJSDate(), LIST_LIMIT);
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
        // The weeks this curator's digest did not reach them: a week that failed for others may have reached them.
        const missed: DigestWeek[] = [];
        for (const w of missedWeeks) if (!(await repos.outbox.summary(`digest:${curator._id}:${w.week}`))) missed.push(w);
        const rendered = renderer.render('curator-digest', {
          curator: curator.name,
          weekStart: current.weekStart.toISOString(),
          weekEnd: current.weekEnd.toISOString(),
          review: found.review.items.map(item),
          overdue: found.overdue.items.map(item),
          dueSoon: found.dueSoon.items.map(item),
          counts,
          link: `${baseUrl}/assignments`,
          missed: missed.slice(-MISSED_LISTED).map(range),
        });
        await repos.outbox.record({ _id: key, template: 'curator-digest', to: [curator.email], ...rendered, context: { event: 'curator-digest' } });
      }
      try {
        // Heartbeats while the SMTP server takes its time: a stalled send is retried, not duplicated.
        const delivered = await beating(() => deliver(key));
        if (delivered === 'sent' || delivered === 'already-sent') result.sent += 1;
      } catch (error) {
        // One curator's failing address must not hold back the others' digests: go on, retry after.
        failures.push(error);
      }
    }
    // A temporary failure (the store down) is retried by Temporal; digests already recorded are not made again.
    if (failures.length > 0) throw failures[0];
    return result;
  }
}
