import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as Record<string, unknown>).__kontrolStack as { services: Array<{ stop(): Promise<void> }>; dir: string } | undefined;
  if (!stack) return;
  for (const service of stack.services) await service.stop().catch((error: unknown) => console.error('stopping a test service failed:', error));
  if (!process.env.KEEP_TEST_LOGS) await rm(stack.dir, { recursive: true, force: true });
}
