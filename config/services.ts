/** Where the external services are when nothing embedded was started for them. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type Config } from './index';

export const temporalAddress = (config: Config) => config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
export const mongoUri = (config: Config) => config.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/kontrol';
export const smtpUrl = (config: Config) => config.SMTP_URL ?? 'smtp://127.0.0.1:1025';

/**
 * Outside production a missing JWT_SECRET is generated once and kept in DATA_DIR, so a restart
 * does not log everyone out; production must set it (config refuses to start otherwise).
 */
export const jwtSecret = (config: Config) => secretOf(config, 'JWT_SECRET', 'jwt-secret');

/** The pages' cookie secret, the same way: SESSION_SECRET, else one kept in DATA_DIR outside production. */
export const sessionSecret = (config: Config) => secretOf(config, 'SESSION_SECRET', 'session-secret');

async function secretOf(config: Config, name: 'JWT_SECRET' | 'SESSION_SECRET', fileName: string): Promise<string> {
  const given = config[name];
  if (given) return given;
  if (config.NODE_ENV === 'production') throw new ConfigError(`Invalid configuration:\n  ${name}: required in production`);
  const file = path.join(config.dataDir, fileName);
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 32) return stored;
  } catch {
    // first start: create it below
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}
