/**
 * Changes to stored documents that a new version needs, each run once per database and recorded
 * in the `migrations` collection. A step must be idempotent: two processes starting together may
 * both run it (the API and the worker each connect with index sync), and a step cut off by a crash
 * runs again at the next start.
 */
import type { Models } from './models';
import { auditEntityKey, type StoredAuditEntry } from './models';
import { inParallel } from './serialize';

interface Migration {
  /** Recorded once done; never renamed. */
  name: string;
  run(models: Models, log: (message: string) => void): Promise<void>;
}

const BATCH = 500;

export const MIGRATIONS: Migration[] = [
  {
    // Audit entries written before the top-level key (see auditEntityKey) get it.
    name: '2026-12-audit-entity-key',
    async run(models, log) {
      // One pass over the trail: a filter on the missing field is not pushed down on FerretDB, so
      // asking for "those without it" batch by batch would read the whole trail every time.
      const cursor = models.audit.find({}, { _id: 1, entity: 1, entityKey: 1 }).lean<Array<Pick<StoredAuditEntry, '_id' | 'entity' | 'entityKey'>>>().cursor({ batchSize: 1000 });
      let pending: Array<Pick<StoredAuditEntry, '_id' | 'entity'>> = [];
      let done = 0;
      const flush = async () => {
        await inParallel(pending, 8, async (entry) => {
          await models.audit.updateOne({ _id: entry._id }, { $set: { entityKey: auditEntityKey(entry.entity) } });
        });
        done += pending.length;
        pending = [];
        log(`миграция журнала: ключ сущности записан у ${done} записей`);
      };
      for await (const entry of cursor) {
        if (entry.entityKey) continue;
        pending.push(entry);
        if (pending.length >= BATCH) await flush();
      }
      if (pending.length > 0) await flush();
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
