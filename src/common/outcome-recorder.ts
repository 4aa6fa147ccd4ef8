import type { EventKind } from './event-kinds.js';
import type { Reason } from './reasons.js';

/**
 * Told of each accepted event by the intake and of each security rejection by the error filter, the
 * moment they happen, so the counters never have to guess an outcome from a route or a status.
 * Bound by the metrics store.
 */
export abstract class OutcomeRecorder {
  abstract accepted(kind: EventKind): void;
  abstract rejected(reason: Reason): void;
}
