/**
 * Waits until every assignment of a recommendation has been issued: its workflow has run and its
 * projection activity has written the 'issued' audit entry (the read-model rows cannot tell, the
 * issue request creates them up front).
 *
 * The authoritative check is a count of those entries, but it filters on a dotted field and a
 * regex, which FerretDB cannot push down to PostgreSQL, so each count decodes the whole audit
 * collection: two seconds each under load at N=2,300, which a count every five seconds for
 * progress turned into a good part of the database's time during the phase being measured. So the
 * wait polls `_id` lookups, which FerretDB answers from the primary key: of the entry of the
 * assignment at each tenth of the list (progress), then of the last one started; once that one is
 * issued, nearly all are, and the count confirms (once a second, for stragglers). A count once a
 * minute would still end the wait should the `_id` scheme change.
 */
import { performance } from 'node:perf_hooks';
import type { Models } from '../../store/models';
import { sleep, withTimeout } from './util';

/** The key workers/activities/projection.ts gives an assignment's first event, which is 'issued'. */
export const issuedAuditId = (assignmentId: string) => `assignment:${assignmentId}:${String(1).padStart(6, '0')}`;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface IssuedWatch {
  /** The authoritative count of 'issued' entries of the recommendation. */
  count(): Promise<number>;
  /** Resolves when all are issued; returns how many checks it took and their total wall time. `progress` gets about how many are issued, at each tenth. */
  wait(options: { timeoutMs: number; guard?: () => void; progress?: (issued: number) => void }): Promise<CheckStats>;
}

export interface CheckStats {
  lookups: number;
  lookupMs: number;
  counts: number;
  countMs: number;
}

export function watchIssued(audit: Models['audit'], recommendationId: string, assignmentIds: readonly string[], what: string): IssuedWatch {
  const count = () =>
    withTimeout(
      audit.countDocuments({ action: 'issued', 'entity.id': { $regex: `^${escapeRegex(recommendationId)}\\.` } }).exec(),
      30_000,
      `counting the 'issued' audit entries of ${what}`,
    );
  const exists = (id: string) => withTimeout(audit.exists({ _id: issuedAuditId(id) }).exec(), 30_000, `looking up the 'issued' entry of ${id}`);

  return {
    count,
    async wait({ timeoutMs, guard, progress }) {
      const total = assignmentIds.length;
      const deadline = Date.now() + timeoutMs;
      const stats: CheckStats = { lookups: 0, lookupMs: 0, counts: 0, countMs: 0 };
      const timed = async <T>(kind: 'lookup' | 'count', run: () => Promise<T>) => {
        const started = performance.now();
        try {
          return await run();
        } finally {
          stats[kind === 'lookup' ? 'lookups' : 'counts']++;
          stats[kind === 'lookup' ? 'lookupMs' : 'countMs'] += performance.now() - started;
        }
      };
      // Assignments are started batch after batch in this order: the one at each tenth of the
      // list is issued about when that tenth is, and the last one last.
      const milestones = Array.from({ length: Math.min(10, total) }, (_, k) => Math.ceil(((k + 1) * total) / Math.min(10, total)) - 1);
      let next = 0;
      let lastCount = Date.now();
      let lastConfirm = 0;
      for (;;) {
        guard?.();
        while (next < milestones.length && (await timed('lookup', () => exists(assignmentIds[milestones[next]]))) !== null) {
          next++;
          if (next < milestones.length) progress?.(milestones[next - 1] + 1);
        }
        const now = Date.now();
        const lastSeen = next === milestones.length;
        // The count decodes the whole audit collection on FerretDB: once a second at the end, and
        // otherwise once a minute in case the _id scheme ever changes and no lookup finds anything.
        if ((lastSeen && now - lastConfirm >= 1_000) || now - lastCount >= 60_000) {
          lastCount = lastConfirm = now;
          if ((await timed('count', count)) >= total) return stats;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for all ${total} assignments of ${what} to be issued (the last one ${lastSeen ? 'is' : 'is not yet'} issued)`);
        await sleep(100);
      }
    },
  };
}
