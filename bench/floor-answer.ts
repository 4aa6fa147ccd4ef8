/** The 201 both floor servers answer: the shape and size of the service's accepted answer (SPEC §4). */
export interface FloorAnswer {
  status: 'accepted';
  sequence: number;
  hash: string;
  previous_hash: string;
  received_at: string;
}

let sequence = 0;

/** A fresh answer with a sequence that counts up, as the real one does. */
export function acceptedAnswer(): FloorAnswer {
  sequence += 1;
  return {
    status: 'accepted',
    sequence,
    hash: 'a'.repeat(64),
    previous_hash: 'b'.repeat(64),
    received_at: new Date().toISOString(),
  };
}

/** The service's default BODY_LIMIT_BYTES. */
export const FLOOR_BODY_LIMIT_BYTES = 256 * 1024;
