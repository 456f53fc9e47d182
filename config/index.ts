/**
 * Configuration: parsed once from the environment and validated, failing fast with the variable's
 * name. Every variable is listed with a comment in .env.example.
 */
import path from 'node:path';
import { z } from 'zod';

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** The demo users' password, printed in the README and by `npm start`. */
const PUBLISHED_DEMO_PASSWORD = 'kontrol-demo';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  /** Express "trust proxy": how many proxies (or which) sit in front, so rate limits see client IPs. */
  TRUST_PROXY: z.string().default('false'),
  BASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('.data'),
  /** Set by the node supervisor (`npm start`): its status file, which /readyz reports. */
  KONTROL_SERVICES_STATUS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('kontrol'),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URI').optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().default('Kontrol <kontrol@localhost>'),

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Signs the pages' session cookies; a secret of its own, so a leaked one does not open the other. */
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TOKEN_TTL: z.string().regex(/^\d+[smhd]$/, 'must look like 30m, 8h or 7d').default('8h'),
  LOGIN_RATE_LIMIT: z.coerce.number().int().positive().default(10),
  LOGIN_RATE_WINDOW_SECONDS: z.coerce.number().int().positive().default(60),

  ADMIN_EMAIL: z.string().email().optional(),
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  DEMO_DATA: boolean.default(false),
  /** Password of every demo user (DEMO_DATA). */
  DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').default(PUBLISHED_DEMO_PASSWORD),

  TIMEZONE: z.string().default('Asia/Tomsk'),
  /**
   * Where a date deadline on a non-working day moves: to the previous working day (records-management
   * practice for instructions) or to the next one (Civil Code art. 193).
   */
  DEADLINE_NON_WORKING_DAY: z.enum(['previous', 'next']).default('previous'),
  /** Local hour at which reminders and escalation measured in days go out. */
  NOTIFY_HOUR: z.coerce.number().int().min(0).max(23).default(9),
  /** When the weekly curator digest goes out (cron, in TIMEZONE): Mondays at 09:00 by default. */
  DIGEST_CRON: z
    .string()
    .regex(/^(\S+\s+){4}\S+$/, 'must be a five-field cron expression such as "0 9 * * 1"')
    .default('0 9 * * 1'),
  /** How emails sign off: the issuing authority's name. */
  AUTHORITY_NAME: z.string().min(2).default('ОГБУ «Региональный центр развития образования»'),
  UPLOAD_MAX_FILE_MB: z.coerce.number().positive().default(20),
  UPLOAD_MAX_FILES: z.coerce.number().int().positive().default(10),
  ISSUE_BATCH_SIZE: z.coerce.number().int().positive().max(1000).default(100),

  /** A prebuilt workflow bundle for the worker; else dist/workflow-bundle.js, else bundled at start. */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  /**
   * Workflows the worker keeps in memory between their tasks (the SDK's sticky cache). The SDK's
   * default grows with the heap limit (2,310 with a 4 GB heap), so every open assignment stays
   * cached. Measured on 2 cores with the real workflow bundle (activities stubbed), 2,000 open
   * assignments each touched once more: 725 MB RSS with the SDK's default, 533 MB with 500, 310 MB
   * with 100, about 0.22 MB per cached assignment. Assignments hear from people and timers days
   * apart, so a cached copy is seldom reused; a miss replays a history of a few dozen events:
   * touching all 2,000 took 53 s instead of 19 s, which is what 2,000 reminders firing at the same
   * NOTIFY_HOUR cost, and issuing 2,000 was no slower with 100. 0 turns the cache off.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .refine((n) => n !== 1, 'must be 0 (no cache) or at least 2')
    .default(100),
});

export type Env = z.infer<typeof schema>;

export interface Config extends Env {
  dataDir: string;
  filesDir: string;
  uploadMaxFileBytes: number;
  /** Where links in emails point: BASE_URL, else the API on this machine. */
  baseUrl: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings in .env files mean "not set".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const values = parsed.data;
  if (!isValidTimezone(values.TIMEZONE)) {
    throw new ConfigError(`Invalid configuration:\n  TIMEZONE: unknown time zone "${values.TIMEZONE}"`);
  }
  const problems = productionProblems(values, cleaned);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
  const dataDir = path.resolve(values.DATA_DIR);
  return {
    ...values,
    dataDir,
    filesDir: path.join(dataDir, 'files'),
    uploadMaxFileBytes: Math.round(values.UPLOAD_MAX_FILE_MB * 1024 * 1024),
    baseUrl: values.BASE_URL ?? `http://127.0.0.1:${values.PORT}`,
  };
}

/**
 * What production must set and development may leave out: the secrets (generated into DATA_DIR
 * elsewhere, see config/services.ts), the address links in emails point to, and no demo logins
 * with the published password.
 */
function productionProblems(values: z.infer<typeof schema>, given: Record<string, string | undefined>): string[] {
  if (values.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (!values.JWT_SECRET) problems.push('JWT_SECRET: required in production');
  if (!values.SESSION_SECRET) problems.push('SESSION_SECRET: required in production');
  if (values.JWT_SECRET && values.JWT_SECRET === values.SESSION_SECRET) problems.push('SESSION_SECRET: must differ from JWT_SECRET');
  if (!values.BASE_URL) problems.push('BASE_URL: required in production (links in emails point there)');
  if (values.DEMO_DATA && (!given.DEMO_PASSWORD || values.DEMO_PASSWORD === PUBLISHED_DEMO_PASSWORD)) {
    problems.push('DEMO_DATA: demo users in production need a DEMO_PASSWORD of their own, not the published default');
  }
  return problems;
}

function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
