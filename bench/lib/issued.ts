/**
 * Waits until every assignment of a recommendation has been issued: its workflow has run and its
 * projection activity has written the 'issued' audit entry (the read-model rows cannot tell, the
 * issue request creates them up front).
 *
 * The authoritative check is a count of those entries, but it filters on fields FerretDB/SQLite
 * cannot push down (only a lone `_id` equality reaches SQLite), so each count decodes the whole
 * audit collection: polled every 100 ms it kept FerretDB, the bottleneck of the phase being
 * measured, busy for most of it. So the wait polls an `_id` lookup, which FerretDB answers from
 * SQLite's primary key, of the entry of the last assignment started; once that one is issued,
 * nearly all are, and the count confirms (at most twice a second, for stragglers). A count every
 * few seconds reports progress, and would still end the wait should the `_id` scheme change.
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
  /** Resolves when all are issued; returns how many checks it took and their total wall time. */
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
      // Assignments are started batch after batch in this order: the last is started last.
      const last = assignmentIds[total - 1];
      let lastSeen = false;
      let lastCount = Date.now();
      let lastConfirm = 0;
      for (;;) {
        guard?.();
        lastSeen ||= (await timed('lookup', () => exists(last))) !== null;
        const now = Date.now();
        const countDue = now - lastCount >= 5_000;
        const confirmDue = lastSeen && now - lastConfirm >= 500;
        if (countDue || confirmDue) {
          lastCount = now;
          if (confirmDue) lastConfirm = now;
          const issued = await timed('count', count);
          if (issued >= total) return stats;
          if (countDue) progress?.(issued);
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for all ${total} assignments of ${what} to be issued (the last one ${lastSeen ? 'is' : 'is not yet'} issued)`);
        await sleep(100);
      }
    },
  };
}
