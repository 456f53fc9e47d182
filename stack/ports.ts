import net from 'node:net';

/**
 * A TCP port that was free a moment ago. Another process may still take it before the caller
 * binds it, so starters that pick ports themselves retry with withFreePort.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port of a listener on ${host}`));
        return;
      }
      server.close((error) => (error ? reject(error) : resolve(address.port)));
    });
  });
}

/**
 * A free port from a range, tried at random: for listeners whose number must fit a range the
 * kernel's ephemeral ports (usually 32768-60999) lie outside of.
 */
export async function freePortInRange(from: number, to: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${from} and ${to} on ${host}`);
}

export function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && /address already in use|EADDRINUSE/i.test(error.message);
}

/**
 * Runs start(port) with the requested port, or with a free one when none was requested. Only in
 * the latter case is an "address in use" failure retried with a fresh port: it means another
 * process won the race between freePort() and the bind, not that the caller's setup is wrong.
 */
export async function withFreePort<T>(
  requested: number | undefined,
  start: (port: number) => Promise<T>,
  attempts = 3,
): Promise<T> {
  if (requested !== undefined) return start(requested);
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (attempt >= attempts || !isAddressInUse(error)) throw error;
    }
  }
}
