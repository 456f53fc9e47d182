/**
 * Changes to stored documents that a new version needs, each run once per database and recorded
 * in the `migrations` collection. A step must be idempotent: two processes starting together may
 * both run it (the API and the worker each connect with index sync), and a step cut off by a crash
 * runs again at the next start.
 */
import type { Models } from './models';
import { countersOf } from '../domain/tally';
import { auditEntityKey, type AssignmentView, type StoredAuditEntry } from './models';
import { inParallel } from './serialize';
import { insertOnce } from './duplicate-key';
import { OUTBOX_DAYS_VERSION, sliceOf } from './outbox';
import { versionedCache } from './versioned-cache';

interface Migration {
  /** Recorded once done; never renamed. */
  name: string;
  run(models: Models, log: (message: string) => void): Promise<void>;
}

const BATCH = 500;

/**
 * One pass over a collection, setting on each document what `change` returns for it (nothing when
 * it returns undefined). A filter on a missing field is not pushed down on FerretDB, so asking for
 * "those without it" batch by batch would read the whole collection every time.
 */
async function backfill<T extends { _id: string }>(
  model: { find(filter: object, projection: object): { lean(): { cursor(options: { batchSize: number }): AsyncIterable<unknown> } }; updateOne(filter: object, update: object): PromiseLike<unknown> },
  projection: Record<string, 1>,
  change: (doc: T) => Record<string, unknown> | undefined,
  progress: (done: number) => void,
): Promise<void> {
  let pending: Array<{ _id: string; set: Record<string, unknown> }> = [];
  let done = 0;
  const flush = async () => {
    await inParallel(pending, 8, async ({ _id, set }) => {
      await model.updateOne({ _id }, { $set: set });
    });
    done += pending.length;
    pending = [];
    progress(done);
  };
  for await (const doc of model.find({}, projection).lean().cursor({ batchSize: 1000 })) {
    const set = change(doc as T);
    if (!set) continue;
    pending.push({ _id: (doc as T)._id, set });
    if (pending.length >= BATCH) await flush();
  }
  if (pending.length > 0) await flush();
}

export const MIGRATIONS: Migration[] = [
  {
    // Audit entries written before the top-level key (see auditEntityKey) get it.
    name: '2026-12-audit-entity-key',
    run: (models, log) =>
      backfill<Pick<StoredAuditEntry, '_id' | 'entity' | 'entityKey'>>(
        models.audit,
        { _id: 1, entity: 1, entityKey: 1 },
        (entry) => (entry.entityKey ? undefined : { entityKey: auditEntityKey(entry.entity) }),
        (done) => log(`миграция журнала: ключ сущности записан у ${done} записей`),
      ),
  },
  {
    // Rows projected before the flag the extension list filters on.
    name: '2026-12-assignment-extension-pending',
    run: (models, log) =>
      backfill<AssignmentView>(
        models.assignments,
        { _id: 1, status: 1, overdue: 1, acceptedLate: 1, returns: 1, extension: 1, extensionPending: 1 },
        (row) => {
          const pending = countersOf(row).includes('extensionPending');
          // It changes what the row counts as: marked for the tallier like any such write.
          return pending === Boolean(row.extensionPending) ? undefined : { extensionPending: pending, tallyDirty: true };
        },
        (done) => log(`миграция поручений: признак запроса продления записан у ${done} строк`),
      ),
  },
  {
    // Emails recorded before the log was kept in slices: each gets its slice (from when it was
    // recorded) and a top-level assignmentId, and its bodies move to outbox_bodies.
    name: '2026-12-outbox-slices',
    async run(models, log) {
      let done = 0;
      const known = new Set<string>();
      for await (const doc of models.outbox.find({}).lean().cursor({ batchSize: 200 })) {
        const email = doc as { _id: string; slice?: string; html?: string; text?: string; createdAt?: Date; context?: { assignmentId?: string } };
        if (email.slice && email.html === undefined) continue;
        const slice = email.slice ?? sliceOf(email.createdAt ?? new Date());
        if (!known.has(slice)) {
          await insertOnce(models.outboxDays, slice.slice(0, 10), { closed: false });
          await insertOnce(models.outboxSlices, slice, { day: slice.slice(0, 10), closed: false });
          known.add(slice);
        }
        if (email.html !== undefined) await insertOnce(models.outboxBodies, email._id, { html: email.html, text: email.text ?? '' });
        await models.outbox.updateOne({ _id: email._id }, { $set: { slice, assignmentId: email.context?.assignmentId ?? null }, $unset: { html: 1, text: 1 } }, { timestamps: false });
        done += 1;
        if (done % 1000 === 0) log(`миграция журнала писем: разложено по периодам ${done} писем`);
      }
      if (done > 0) log(`миграция журнала писем: разложено по периодам ${done} писем`);
      // Days written here, around the outbox's repository: every process reads them anew.
      if (known.size > 0) await versionedCache(models.settings, OUTBOX_DAYS_VERSION, async () => null).changed();
    },
  },
];

/** Runs every migration this database has not recorded, in order. */
export async function migrate(models: Models, log: (message: string) => void = () => undefined): Promise<string[]> {
  const ran: string[] = [];
  const done = new Set((await models.migrations.find({}, { _id: 1 }).lean()).map((m) => m._id));
  for (const migration of MIGRATIONS) {
    if (done.has(migration.name)) continue;
    await migration.run(models, log);
    await models.migrations.updateOne({ _id: migration.name }, { $setOnInsert: { at: new Date() } }, { upsert: true });
    ran.push(migration.name);
  }
  return ran;
}
