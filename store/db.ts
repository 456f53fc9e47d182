import mongoose from 'mongoose';
import { migrate } from './migrations';
import { registerModels, type Models } from './models';
import { createRepositories, type Repositories } from './repositories';

export interface Database {
  connection: mongoose.Connection;
  models: Models;
  repos: Repositories;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Indexes earlier versions created that must go: dropped at start where they still exist. */
const RETIRED_INDEXES: Array<[keyof ReturnType<typeof registerModels>, string]> = [
  // An array index: too big a row for FerretDB on PostgreSQL once a recommendation has ~800 addressees.
  ['recommendations', 'assignees_1'],
  // Replaced by entityKey_1: FerretDB did not push the dotted pair down.
  ['audit', 'entity.kind_1_entity.id_1_at_1'],
  // The delivery log sorted by these; it reads by slice now (store/outbox.ts).
  ['outbox', 'createdAt_-1__id_-1'],
  ['outbox', 'status_1_createdAt_-1__id_-1'],
  ['outbox', 'template_1_createdAt_-1__id_-1'],
  ['outbox', 'context.assignmentId_1_createdAt_-1__id_-1'],
];

/**
 * One connection per process, created at start and injected wherever it is needed.
 * timezone: the days the summaries count issue dates in (config TIMEZONE). With syncIndexes (the
 * default) it also creates the indexes, drops retired ones and runs pending migrations.
 */
export async function connectDatabase(uri: string, options: { timezone: string; syncIndexes?: boolean; log?: (message: string) => void }): Promise<Database> {
  // Mongoose buffers commands while disconnected; failing fast surfaces an outage as an error, and
  // a socket timeout turns a hung server into an error (and an activity retry) instead of a hang.
  const connection = await mongoose
    .createConnection(uri, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 60_000, bufferCommands: false, autoIndex: false })
    .asPromise();
  const models = registerModels(connection);
  if (options.syncIndexes !== false) {
    for (const model of Object.values(models)) await model.createIndexes();
    for (const [model, name] of RETIRED_INDEXES) await models[model].collection.dropIndex(name).catch(() => undefined);
    await migrate(models, options.log);
  }
  return {
    connection,
    models,
    repos: createRepositories(models, { timezone: options.timezone }),
    async ping() {
      await connection.db!.admin().command({ ping: 1 });
    },
    close: () => connection.close(),
  };
}
