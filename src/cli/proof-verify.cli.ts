import { readFileSync } from 'node:fs';
import { parseExportLine } from '../provenance/chain-export-reader.js';
import { chainHash } from '../provenance/chain-hash.js';
import { readCheckpointPublicKeys } from '../provenance/checkpoint-key.js';
import { verifyCheckpoint, type Checkpoint, type NoteKeys } from '../provenance/checkpoint-note.js';
import { verifyConsistency } from '../provenance/merkle.js';
import { verifyReceipt } from '../provenance/tlog-proof.js';
import { EXIT } from './chain-cli-support.js';
import { fail, parseCli, runCli } from './cli-support.js';

const USAGE = `Usage: npm run proof:verify -- --checkpoint-key PUBLIC.pem --receipt FILE
                                (--entry FILE | --hash HEX)
       npm run proof:verify -- --checkpoint-key PUBLIC.pem --consistency FILE
                                --old CHECKPOINT --new CHECKPOINT

Verifies offline, trusting nothing but the pinned checkpoint public key(s) (SPEC §5a):
  --receipt FILE        a receipt (GET /provenance/receipt/:sequence, a C2SP tlog-proof): its
                        checkpoint's signature and the inclusion of the entry in its tree
  --entry FILE          the entry the receipt is for (GET /provenance/entries/:sequence or one
                        export line); its hash is recomputed from its fields (SPEC §5)
  --hash HEX            or just the entry's hash
  --consistency FILE    a consistency proof (GET /provenance/proof/consistency?from=M&to=N)
  --old, --new FILE     the two saved checkpoints it links (the signed note, or the JSON answer
                        of GET /provenance/checkpoint); each must verify with a pinned key
  --checkpoint-key PEM  the pinned checkpoint public key, or several in one file (the current
                        key and those it replaced: chain:verify --print-checkpoint-keys); a
                        checkpoint signed by any of them verifies

Exit status: 0 verified, 1 refused (forged, altered, or not what it claims), 2 usage error.`;

runCli(() => {
  const flags = parseCli(
    {
      receipt: { type: 'string' },
      entry: { type: 'string' },
      hash: { type: 'string' },
      consistency: { type: 'string' },
      old: { type: 'string' },
      new: { type: 'string' },
      'checkpoint-key': { type: 'string' },
      help: { type: 'boolean' },
    },
    USAGE,
  );
  if (flags.help) return void console.log(USAGE);
  if (flags['checkpoint-key'] === undefined) fail(`--checkpoint-key is required\n\n${USAGE}`);
  const keys = attempt(() => readCheckpointPublicKeys(flags['checkpoint-key']!), EXIT.usage);
  if (flags.receipt !== undefined) {
    if ((flags.entry === undefined) === (flags.hash === undefined)) {
      fail(`--receipt takes exactly one of --entry and --hash\n\n${USAGE}`);
    }
    const receipt = read(flags.receipt);
    const { sequence, hash } =
      flags.entry !== undefined ? entryOf(flags.entry) : { sequence: undefined, hash: flags.hash! };
    const verified = attempt(() => verifyReceipt(receipt, hash, keys), EXIT.broken);
    if (sequence !== undefined && sequence !== verified.sequence) {
      fail(`receipt refused: it is for sequence ${verified.sequence}, the entry is ${sequence}`, 1);
    }
    const { checkpoint } = verified;
    console.log(
      `receipt valid: entry ${verified.sequence} (hash ${hash}) is in ${checkpoint.origin} at ` +
        `size ${checkpoint.length}, root ${checkpoint.rootHash}, signed ${checkpoint.timestamp}`,
    );
    return;
  }
  if (flags.consistency !== undefined) {
    if (flags.old === undefined || flags.new === undefined) {
      fail(`--consistency needs --old and --new\n\n${USAGE}`);
    }
    const older = checkpointOf(flags.old, keys);
    const newer = checkpointOf(flags.new, keys);
    if (!older.rootHash || !newer.rootHash) {
      fail('refused: a checkpoint signed before the Merkle tree has no root to prove from', 1);
    }
    const proof = proofOf(flags.consistency, older, newer);
    attempt(
      () =>
        verifyConsistency(
          older.length,
          newer.length,
          Buffer.from(older.rootHash!, 'hex'),
          Buffer.from(newer.rootHash!, 'hex'),
          proof,
        ),
      EXIT.broken,
    );
    console.log(
      `consistent: ${newer.origin} at size ${newer.length} (signed ${newer.timestamp}) extends ` +
        `size ${older.length} (signed ${older.timestamp})`,
    );
    return;
  }
  fail(`nothing to verify: give --receipt or --consistency\n\n${USAGE}`);
});

function read(file: string): string {
  return attempt(() => readFileSync(file, 'utf8'), EXIT.usage);
}

/** Runs `work`; a failure ends the command with its message and `code`. */
function attempt<T>(work: () => T, code: number): T {
  try {
    return work();
  } catch (error) {
    fail(`${code === EXIT.broken ? 'refused: ' : ''}${(error as Error).message}`, code);
  }
}

/** The entry's sequence and its hash as recomputed from its fields, never as the file states it. */
function entryOf(file: string): { sequence: number; hash: string } {
  const entry = attempt(() => parseExportLine(read(file).trim(), 1), EXIT.usage);
  const hash = chainHash(
    entry.previousHash,
    {
      type: entry.type,
      module: entry.module,
      canonicalPayload: entry.canonicalPayload,
      signature: entry.signature,
    },
    entry.timestamp,
  );
  if (hash !== entry.hash) {
    fail(`refused: the entry's fields hash to ${hash}, not to its stated hash ${entry.hash}`, 1);
  }
  return { sequence: entry.sequence, hash };
}

function checkpointOf(file: string, keys: NoteKeys): Checkpoint {
  const text = read(file);
  const note = text.trimStart().startsWith('{')
    ? attempt(() => (JSON.parse(text) as { note: string }).note, EXIT.usage)
    : text;
  if (typeof note !== 'string') fail(`${file} is JSON without a "note" string`);
  return attempt(() => verifyCheckpoint(note, keys), EXIT.broken);
}

/** The proof's hashes, once its sizes are the two checkpoints'. */
function proofOf(file: string, older: Checkpoint, newer: Checkpoint): Buffer[] {
  const answer = attempt(
    () => JSON.parse(read(file)) as { from?: unknown; to?: unknown; proof?: unknown },
    EXIT.usage,
  );
  if (answer.from !== older.length || answer.to !== newer.length) {
    fail(
      `refused: the proof is from ${String(answer.from)} to ${String(answer.to)}, the checkpoints ` +
        `are at ${older.length} and ${newer.length}`,
      1,
    );
  }
  const proof = answer.proof;
  if (
    !Array.isArray(proof) ||
    !proof.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
  ) {
    fail('refused: "proof" must be an array of 64-digit hex hashes', 1);
  }
  return (proof as string[]).map((hash) => Buffer.from(hash, 'hex'));
}
