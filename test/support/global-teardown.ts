import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as Record<string, unknown>).__kontrolStack as
    | { temporal: { stop(): Promise<void> }; ferret: { stop(): Promise<void> }; smtp: { stop(): Promise<void> }; dir: string }
    | undefined;
  if (!stack) return;
  await Promise.all([stack.temporal.stop(), stack.ferret.stop(), stack.smtp.stop()]);
  if (!process.env.KEEP_TEST_LOGS) await rm(stack.dir, { recursive: true, force: true });
}
