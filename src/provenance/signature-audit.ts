import {
  verificationKeysFor,
  verifyPayloadSignature,
  type NamedKey,
  type VerificationKeys,
} from '../security/verification-keys.js';
import type { StoredChainEntry } from './chain-entry.js';

/** RSA verifications running at once on the libuv pool; bounds memory and keeps every core busy. */
const MAX_IN_FLIGHT = 32;

export interface SignatureFailure {
  sequence: number;
  module: string;
  reason: string;
}

export interface SignatureReport {
  checked: number;
  failed: number;
  /** The failure with the lowest sequence. */
  firstFailure: SignatureFailure | undefined;
}

/**
 * Re-checks the request signature kept in every entry against the module keys (SPEC §2): the
 * module's own keys (`modules/<module>/*.pem`, `modules/<module>.pem`) when it has any, else
 * `public.pem`; one of them must verify it. The chain hash proves an entry was not
 * changed after it was appended; this proves each payload was signed by its module's key.
 */
export class SignatureAudit {
  private readonly inFlight = new Set<Promise<void>>();
  private checked = 0;
  private failed = 0;
  private firstFailure: SignatureFailure | undefined;

  constructor(private readonly keys: VerificationKeys) {}

  /** Queues one entry; waits only while the window of running verifications is full. */
  async add(entry: StoredChainEntry): Promise<void> {
    while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
    const { sequence, module } = entry;
    const keys = verificationKeysFor(this.keys, module);
    if (keys.length === 0) {
      this.record(
        sequence,
        module,
        'no key for this module (no modules/<module>.pem or modules/<module>/, no public.pem)',
      );
      return;
    }
    const check: Promise<void> = verifiesWithAny(keys, entry).then((valid) => {
      this.inFlight.delete(check);
      const files = keys.map(({ file }) => file).join(' or ');
      this.record(sequence, module, valid ? undefined : `does not verify with ${files}`);
    });
    this.inFlight.add(check);
  }

  async report(): Promise<SignatureReport> {
    await Promise.all(this.inFlight);
    return { checked: this.checked, failed: this.failed, firstFailure: this.firstFailure };
  }

  private record(sequence: number, module: string, failure: string | undefined): void {
    this.checked += 1;
    if (failure === undefined) return;
    this.failed += 1;
    if (!this.firstFailure || sequence < this.firstFailure.sequence) {
      this.firstFailure = { sequence, module, reason: failure };
    }
  }
}

/** Whether one of `keys` verifies the entry's signature, tried one after the other. */
async function verifiesWithAny(
  keys: readonly NamedKey[],
  entry: StoredChainEntry,
): Promise<boolean> {
  for (const { key } of keys) {
    if (await verifyPayloadSignature(key, entry.canonicalPayload, entry.signature)) return true;
  }
  return false;
}
