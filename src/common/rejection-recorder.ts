import type { Rejection } from './rejection.js';

export interface RejectedRequest {
  method: string;
  path: string;
  /** The peer address as Express sees it (`trust proxy` decides whether X-Forwarded-For counts). */
  clientAddress?: string;
}

/** Told of every rejection the API answers (SPEC §4: counted and logged). Bound by Security. */
export abstract class RejectionRecorder {
  abstract record(rejection: Rejection, request: RejectedRequest): void;
}
