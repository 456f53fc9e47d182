/** What the global setup started, handed to test files through one environment variable. */
export interface StackInfo {
  /** production: PostgreSQL, the Temporal server, FerretDB on PostgreSQL; dev: dev server and SQLite. */
  profile: 'production' | 'dev';
  temporalAddress: string;
  mongoUri: string;
  smtpUrl?: string;
  workflowBundlePath: string;
  dir: string;
}

export const STACK_ENV = 'KONTROL_TEST_STACK';

export function readStackInfo(): StackInfo {
  const raw = process.env[STACK_ENV];
  if (!raw) throw new Error(`${STACK_ENV} is not set: run the tests with jest (npm test), whose global setup starts the services`);
  return JSON.parse(raw) as StackInfo;
}
