import { setTimeout as delay } from 'node:timers/promises';

/**
 * `promise`'s value, or `late` when it has not settled after `ms`. The timer is cancelled as soon
 * as either side wins, so a finished wait never keeps the process alive.
 */
export async function within<T, L>(promise: Promise<T>, ms: number, late: L): Promise<T | L> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise, delay(ms, late, { signal: timer.signal })]);
  } finally {
    timer.abort();
  }
}
