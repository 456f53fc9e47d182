/** Starts the API process: connections, the app, the first admin; returns how to stop it. */
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import { jwtSecret, mongoUri, sessionSecret, temporalAddress } from '../config/services';
import { connectDatabase, type Database } from '../store/db';
import { createFileStore } from '../store/files';
import { createApp } from './app';
import { createTokenService } from './auth/tokens';
import { createUser } from './users/router';

export interface RunningApi {
  url: string;
  server: Server;
  db: Database;
  temporal: Client;
  services: ReturnType<typeof createApp>['services'];
  close(): Promise<void>;
}

export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  const db = await connectDatabase(mongoUri(config), { timezone: config.TIMEZONE, log: (message) => logger.info(message) });
  const connection = await Connection.connect({ address: temporalAddress(config) });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const files = await createFileStore(config.filesDir);
  const tokens = createTokenService({ secret: await jwtSecret(config), ttl: config.TOKEN_TTL });
  await ensureAdmin(db, config, logger);

  const { app, services } = createApp({ config, db, temporal, files, tokens, logger, sessionSecret: await sessionSecret(config) });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.PORT, config.HOST, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  logger.info({ url }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    db,
    temporal,
    services,
    close: () =>
      (closing ??= (async () => {
        // Stop taking requests, let those in flight finish, then drop the connections.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await connection.close();
        await db.close();
      })()),
  };
}

async function ensureAdmin(db: Database, config: Config, logger: Logger): Promise<void> {
  if (!config.ADMIN_EMAIL || !config.ADMIN_PASSWORD) return;
  if (await db.repos.users.findByEmail(config.ADMIN_EMAIL)) return;
  const created = await createUser(db.repos, {
    email: config.ADMIN_EMAIL,
    name: 'Администратор',
    password: config.ADMIN_PASSWORD,
    role: 'admin',
  });
  if (created) logger.info({ email: created.email }, 'first admin created');
}
