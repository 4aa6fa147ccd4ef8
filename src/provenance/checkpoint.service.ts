import type { KeyObject } from 'node:crypto';
import { setImmediate as yieldToRequests } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { GENESIS_HASH } from './chain-hash.js';
import { ChainVerification } from './chain-verifier.js';
import { ChainRepository, type ChainHead } from './chain.repository.js';
import {
  publicKeyPem,
  readCheckpointSigningKey,
  readPreviousCheckpointKeys,
  type CheckpointKeyPair,
} from './checkpoint-key.js';
import { namedNoteKey, noteKeyId, noteVerifierKey, signCheckpoint } from './checkpoint-note.js';
import { CheckpointRepository, type StoredCheckpoint } from './checkpoint.repository.js';
import {
  consistencyProof,
  leafHash,
  MerkleProofError,
  treeRoot,
  verifyConsistency,
} from './merkle.js';
import { MerkleRepository } from './merkle.repository.js';

/**
 * Entries the walk before a checkpoint hashes in one turn of the event loop: about 1 ms of work
 * (4–8 µs each), so a walk of a second's appends never delays a request by more than that.
 */
const ENTRIES_PER_TURN = 200;

/** A checkpoint key as published: SPKI PEM and the signed-note verifier key string. */
export interface CheckpointKeyView {
  key_name: string;
  key_id: string;
  public_key: string;
  verifier_key: string;
}

/** The key that signs checkpoints now, and the keys it replaced, which verify older ones. */
export interface CheckpointKeysView extends CheckpointKeyView {
  previous_keys: CheckpointKeyView[];
}

/** A checkpoint as the API serves it: its fields, the signed note, and the key that verifies it. */
export interface CheckpointView {
  origin: string;
  length: number;
  /** Hex RFC 9162 root; absent on checkpoints signed before the tree existed. */
  root_hash?: string;
  head_hash: string;
  timestamp: string;
  note: string;
  public_key: string;
  verifier_key: string;
}

/** The head cannot be signed: it does not extend the last checkpoint (history was rewritten). */
export class CheckpointRefusedError extends Rejection {
  constructor(message: string) {
    super('checkpoint_refused', message);
    this.name = 'CheckpointRefusedError';
  }
}

/**
 * Signs the chain head with the service's Ed25519 checkpoint key (SPEC §5) and keeps the history.
 * A head is signed only after checking that it extends the last checkpoint, so the service never
 * vouches for a history that contradicts what it signed before.
 */
@Injectable()
export class CheckpointService {
  private readonly logger = new Logger(CheckpointService.name);
  private readonly keys: CheckpointKeyPair;
  /** `KEYS_DIR/checkpoint-previous/*.pem`, read at start like `checkpoint.pem`. */
  private readonly previousKeys: KeyObject[];
  private readonly published: CheckpointKeysView;

  constructor(
    private readonly chain: ChainRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly tree: MerkleRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.keys = readCheckpointSigningKey(config.keysDir);
    this.previousKeys = readPreviousCheckpointKeys(config.keysDir);
    const keyName = config.checkpointOrigin;
    this.published = {
      ...keyView(keyName, this.keys.publicKey),
      previous_keys: this.previousKeys.map((key) => keyView(keyName, key)),
    };
  }

  publicKeys(): CheckpointKeysView {
    return this.published;
  }

  async latest(): Promise<CheckpointView | undefined> {
    const checkpoint = await this.checkpoints.latest();
    return checkpoint && this.toView(checkpoint);
  }

  async atLength(length: number): Promise<CheckpointView | undefined> {
    const checkpoint = await this.checkpoints.atLength(length);
    return checkpoint && this.toView(checkpoint);
  }

  /** Signs the current head now, waiting for a checkpoint another replica is signing. */
  async checkpointNow(): Promise<CheckpointView> {
    const checkpoint = await this.checkpoints.whileLocked({ wait: true }, () => this.signHead());
    return this.toView(checkpoint!);
  }

  /**
   * Signs the head when the chain grew and CHECKPOINT_FRESHNESS_MS is on (the scheduler asks that
   * often), or CHECKPOINT_EVERY_ENTRIES entries or CHECKPOINT_INTERVAL_MINUTES passed since the
   * last checkpoint. Skips when another replica is signing right now.
   */
  async checkpointIfDue(now = new Date()): Promise<CheckpointView | undefined> {
    const signed = await this.checkpoints.whileLocked({ wait: false }, async () => {
      const [latest, head] = await Promise.all([this.checkpoints.latest(), this.chain.head()]);
      return this.isDue(latest, head, now) ? this.signHead() : undefined;
    });
    return signed && this.toView(signed);
  }

  private isDue(latest: StoredCheckpoint | undefined, head: ChainHead, now: Date): boolean {
    const signedLength = latest?.length ?? 0;
    if (head.length === signedLength) return false;
    // A shorter chain cannot be signed; attempting it reports the truncation in the log.
    if (head.length < signedLength) return true;
    if (this.config.checkpointFreshnessMs > 0) return true;
    const { checkpointEveryEntries: every, checkpointIntervalMinutes: minutes } = this.config;
    if (every > 0 && head.length - signedLength >= every) return true;
    return (
      minutes > 0 && (!latest || now.getTime() - latest.signedAt.getTime() >= minutes * 60_000)
    );
  }

  /** Call under the checkpoint lock. The head is one row, so its length and hash agree. */
  private async signHead(): Promise<StoredCheckpoint> {
    const [latest, head] = await Promise.all([this.checkpoints.latest(), this.chain.head()]);
    if (latest?.length === head.length && latest.headHash === head.hash) return latest;
    if (head.length === 0) throw new CheckpointRefusedError('the chain is empty: nothing to sign');
    await this.assertExtends(latest, head);
    const rootHash = await this.assertTreeExtends(latest, head);
    const signedAt = new Date();
    const checkpoint = {
      origin: this.config.checkpointOrigin,
      length: head.length,
      rootHash,
      headHash: head.hash,
      timestamp: signedAt.toISOString(),
    };
    const note = signCheckpoint(checkpoint, this.keys.privateKey);
    const stored = await this.checkpoints.insert({ ...checkpoint, signedAt, note });
    this.logger.log(`signed checkpoint ${checkpoint.origin} at length ${head.length}`);
    return stored;
  }

  /**
   * Verifies only the entries after the last checkpoint: they must chain from its signed head. The
   * first checkpoint verifies the whole chain, once.
   */
  private async assertExtends(
    latest: StoredCheckpoint | undefined,
    head: ChainHead,
  ): Promise<void> {
    const signedLength = latest?.length ?? 0;
    const refuse = (why: string) => {
      const message = `refusing to sign length ${head.length}: ${why}`;
      this.logger.error(message);
      return new CheckpointRefusedError(message);
    };
    if (head.length < signedLength) {
      throw refuse(`the chain has fewer entries than the checkpoint at length ${signedLength}`);
    }
    const verification = new ChainVerification({
      sequence: signedLength + 1,
      previousHash: latest?.headHash ?? GENESIS_HASH,
    });
    for await (const page of this.chain.pages(signedLength + 1, { toSequence: head.length })) {
      for (let from = 0; from < page.length; from += ENTRIES_PER_TURN) {
        // Hashing a page at once would hold the event loop for milliseconds; requests go between.
        if (from > 0) await yieldToRequests();
        for (const entry of page.slice(from, from + ENTRIES_PER_TURN)) verification.add(entry);
      }
    }
    const verdict = verification.verdict();
    const notExtending = latest
      ? `the chain does not extend the checkpoint at length ${signedLength}`
      : 'the chain does not verify';
    if (!verdict.valid) {
      throw refuse(
        `${notExtending} (${verdict.reason} at sequence ${verdict.first_invalid_sequence})`,
      );
    }
    // Only when nothing was appended since: the entry the checkpoint signed was itself rewritten.
    if (verdict.head_hash !== head.hash) throw refuse(`${notExtending} (its head was rewritten)`);
  }

  /**
   * The tree root at the head's length, once the stored tree is shown to extend the last signed
   * root: an RFC 9162 consistency proof from the stored nodes must lead from that root to the new
   * one, and the head's leaf must be the leaf hash of the head entry. (The trigger keeps tree and
   * chain in one transaction; this catches nodes rewritten afterwards.)
   */
  private async assertTreeExtends(
    latest: StoredCheckpoint | undefined,
    head: ChainHead,
  ): Promise<string> {
    const refuse = (why: string) => {
      const message = `refusing to sign length ${head.length}: ${why}`;
      this.logger.error(message);
      return new CheckpointRefusedError(message);
    };
    try {
      const [leaf] = await this.tree.readNodes([{ level: 0, index: head.length - 1 }]);
      if (!leaf.equals(leafHash(Buffer.from(head.hash, 'hex')))) {
        throw refuse('the Merkle tree does not end in the chain head');
      }
      const root = await treeRoot(head.length, this.tree);
      if (latest?.rootHash) {
        const proof = await consistencyProof(latest.length, head.length, this.tree);
        const signedRoot = Buffer.from(latest.rootHash, 'hex');
        verifyConsistency(latest.length, head.length, signedRoot, root, proof);
      }
      return root.toString('hex');
    } catch (error) {
      if (!(error instanceof MerkleProofError)) throw error;
      throw refuse(
        `the Merkle tree is not consistent with the checkpoint at length ${latest?.length ?? 0} (${error.message})`,
      );
    }
  }

  private toView(checkpoint: StoredCheckpoint): CheckpointView {
    // The key named in the note's signature line: a checkpoint signed before a rotation shows the
    // key that signed it, which is one of the previous keys while that key is still listed.
    const signer =
      namedNoteKey(checkpoint.note, [this.keys.publicKey, ...this.previousKeys]) ??
      this.keys.publicKey;
    return {
      origin: checkpoint.origin,
      length: checkpoint.length,
      ...(checkpoint.rootHash ? { root_hash: checkpoint.rootHash } : {}),
      head_hash: checkpoint.headHash,
      timestamp: checkpoint.signedAt.toISOString(),
      note: checkpoint.note,
      public_key: publicKeyPem(signer),
      // The key name of a checkpoint is its origin, which an operator may have renamed since.
      verifier_key: noteVerifierKey(checkpoint.origin, signer),
    };
  }
}

function keyView(keyName: string, publicKey: KeyObject): CheckpointKeyView {
  return {
    key_name: keyName,
    key_id: noteKeyId(keyName, publicKey).toString('hex'),
    public_key: publicKeyPem(publicKey),
    verifier_key: noteVerifierKey(keyName, publicKey),
  };
}
