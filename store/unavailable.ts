/**
 * Whether a store error is one that passes: read the same way by the API (503, try again) and by
 * the activities (wait and write again), by the driver's error names and PostgreSQL's codes.
 */
/** The driver's errors for a database it cannot reach (FerretDB restarting) or that is not there yet. */
const UNREACHABLE_DATABASE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'MongoTopologyClosedError',
]);

const BROKEN_SOCKET = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED']);

/**
 * MongoDB (FerretDB) is out for a while: unreachable, or up while the PostgreSQL under it restarts
 * (FerretDB then answers with PostgreSQL's connection errors, SQLSTATE class 08 and 57P0x), or
 * mongoose gave up waiting for a connection. The request may be retried as it is.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNREACHABLE_DATABASE.has(error.name)) return true;
  // A socket to the store closed under a write, which the driver sometimes passes on unwrapped
  // ("This socket has been ended by the other party").
  if (BROKEN_SOCKET.has((error as NodeJS.ErrnoException).code ?? '')) return true;
  if (error.name === 'MongooseError' && /buffering timed out/.test(error.message)) return true;
  return error.name === 'MongoServerError' && /SQLSTATE (08\w{3}|57P0\d)|connection refused|failed to connect/i.test(error.message);
}
