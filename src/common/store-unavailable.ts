/** Socket errors meaning the database server cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * SQLSTATEs meaning the server will not serve this connection now: class 08 (connection
 * exception), 57P01–57P03 (shut down, terminated, cannot connect now), 53300 (too many
 * connections). A database that accepts no connections says so by message (SQLSTATE 55000).
 */
const UNAVAILABLE_STATE = /^(08...|57P0[123]|53300)$/;
/** pg and pg-pool report a lost or unobtainable connection by message only. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection error|timeout exceeded when trying to connect|not currently accepting connections|Connection refused/i;

/**
 * Whether an error (or the driver error or cause it wraps, as TypeORM's `QueryFailedError` does)
 * says the database is unreachable rather than that the query was wrong: the answer is then 503
 * `store_unavailable` (SPEC §4 step 8), on whichever route met it.
 */
export function isStoreUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, message, driverError, cause } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
  };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATE.test(code)))
    return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  return isStoreUnavailable(driverError, depth + 1) || isStoreUnavailable(cause, depth + 1);
}
