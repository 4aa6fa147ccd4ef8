import { existsSync, readFileSync } from 'node:fs';
import { readVerificationKeys, type VerificationKeys } from '../security/verification-keys.js';
import type { StoredChainEntry } from '../provenance/chain-entry.js';
import { ExportLineError, readExportFile } from '../provenance/chain-export-reader.js';
import { verifyChainBySlices, type SlicedWalkOptions } from '../provenance/chain-slices.js';
import {
  ChainVerification,
  type ChainVerdict,
  type ChainWalkResult,
} from '../provenance/chain-verifier.js';
import {
  publicKeyPem,
  readCheckpointPublicKeys,
  readCheckpointSigningKey,
  readPreviousCheckpointKeys,
} from '../provenance/checkpoint-key.js';
import {
  CheckpointNoteError,
  verifyCheckpoint,
  type Checkpoint,
  type NoteKeys,
} from '../provenance/checkpoint-note.js';
import { leafHash, MerkleRootAccumulator } from '../provenance/merkle.js';
import { checkConsistency } from '../provenance/checkpoint-consistency.js';
import { SignatureAudit, type SignatureReport } from '../provenance/signature-audit.js';
import { fail, parseCli, runCli } from './cli-support.js';
import {
  EXIT,
  loadCliConfig,
  openChainDatabase,
  Progress,
  type ChainDatabase,
} from './chain-cli-support.js';

const USAGE = `Usage: npm run chain:verify -- [--file chain.jsonl] [--keys DIR] [--jobs N]
                                [--checkpoint FILE ...] [--checkpoint-key PUBLIC.pem]
       npm run chain:verify -- --print-checkpoint-key | --print-checkpoint-keys

Walks the provenance chain in bounded memory and reports the first broken entry:
  gap            a sequence is missing or out of place (rows deleted or reordered)
  broken_link    previous_hash is not the hash of the entry before (rows swapped or relinked)
  hash_mismatch  the entry's content (payload, signature, module, type, timestamp) changed

  (no --file)               read the chain from the database (DATABASE_URL, else the
                            embedded database under DATA_DIR, which must not be in use)
  --file FILE               verify an export offline (npm run chain:export, GET /provenance/export)
  --keys DIR                also re-check every entry's request signature with the
                            module's keys (DIR/modules/<module>/*.pem, DIR/modules/<module>.pem;
                            any of them), else DIR/public.pem
  --jobs N                  walk the database's chain in N slices at once, each on its own
                            thread and connection (default: one per core for long chains;
                            not with --file or --keys, which read entry by entry)
  --checkpoint FILE         also prove the chain still has, at the checkpoint's length, exactly
                            the head hash and the RFC 9162 Merkle root it signed (repeatable).
                            FILE holds the signed note, or the JSON answer of
                            GET /provenance/checkpoint. (Walks in one pass, not with --jobs.)
  --checkpoint-key PEM      the checkpoint public key, or several in one file (a note signed by
                            any of them verifies; default: the public half of
                            KEYS_DIR/checkpoint.pem and KEYS_DIR/checkpoint-previous/*.pem)
  --print-checkpoint-key    print the public half of KEYS_DIR/checkpoint.pem and exit
  --print-checkpoint-keys   print it followed by the keys it replaced
                            (KEYS_DIR/checkpoint-previous/*.pem, newest first) and exit

Exit status: 0 valid, 1 broken (or contradicting a checkpoint or a signature),
2 usage error, 3 database unavailable.`;

type Feed = (entries: StoredChainEntry[]) => Promise<void>;

interface HeldCheckpoint {
  file: string;
  checkpoint: Checkpoint;
}

runCli(async () => {
  const flags = parseCli(
    {
      file: { type: 'string' },
      keys: { type: 'string' },
      checkpoint: { type: 'string', multiple: true },
      'checkpoint-key': { type: 'string' },
      'print-checkpoint-key': { type: 'boolean' },
      'print-checkpoint-keys': { type: 'boolean' },
      jobs: { type: 'string' },
      help: { type: 'boolean' },
    },
    USAGE,
  );
  if (flags.help) return void console.log(USAGE);
  if (flags['print-checkpoint-key']) {
    const { publicKey } = checkpointKeyPair();
    return void process.stdout.write(publicKeyPem(publicKey));
  }
  if (flags['print-checkpoint-keys']) {
    return void process.stdout.write(localCheckpointKeys().map(publicKeyPem).join(''));
  }
  if (flags.file !== undefined && !existsSync(flags.file)) {
    fail(`No such file: ${flags.file}`, EXIT.usage);
  }
  const checkpointFiles = flags.checkpoint ?? [];
  const held: HeldCheckpoint[] = [];
  if (checkpointFiles.length > 0) {
    const checkpointKeys = readCheckpointKeys(flags['checkpoint-key']);
    for (const file of checkpointFiles) held.push(readHeldCheckpoint(file, checkpointKeys));
  }
  const signatureKeys = flags.keys === undefined ? undefined : readSignatureKeys(flags.keys);

  if (flags.jobs !== undefined && (flags.file !== undefined || signatureKeys || held.length > 0)) {
    fail('--jobs applies to the walk of the database without --keys or --checkpoint', EXIT.usage);
  }
  const jobs = flags.jobs === undefined ? undefined : parseJobs(flags.jobs);
  const recordHashesAt = held.map(({ checkpoint }) => checkpoint.length);
  // Opened before the progress clock starts, so the rate measures the walk alone.
  const database = flags.file === undefined ? await openChainDatabase(loadCliConfig()) : undefined;
  const progress = new Progress('verified');
  let walk: ChainWalkResult;
  let audit: SignatureAudit | undefined;
  // The tree roots at the held lengths, recomputed from the entry hashes in O(log n) memory.
  const roots = new MerkleRootAccumulator(recordHashesAt);
  if (database && !signatureKeys && held.length === 0) {
    walk = await walkDatabaseBySlices(database, {
      jobs,
      recordHashesAt,
      onProgress: (entries) => progress.add(entries),
    });
  } else {
    // Checking signatures needs every entry decoded: the walk reads pages and feeds both.
    const verification = new ChainVerification(undefined, recordHashesAt);
    audit = signatureKeys && new SignatureAudit(signatureKeys);
    const feed = async (entries: StoredChainEntry[]) => {
      for (const entry of entries) {
        verification.add(entry);
        if (held.length > 0) roots.append(leafHash(Buffer.from(entry.hash, 'hex')));
        if (audit) await audit.add(entry);
      }
      progress.add(entries.length);
    };
    if (database) await walkDatabase(database, feed);
    else await walkExport(flags.file!, feed);
    walk = verification;
  }
  progress.finish();

  const verdict = walk.verdict();
  const lines = [describeVerdict(verdict)];
  let intact = verdict.valid;
  for (const { file, checkpoint } of held) {
    const consistency = checkConsistency(checkpoint, verdict.length, walk, roots);
    intact &&= consistency.consistent;
    lines.push(
      `checkpoint ${file} (${checkpoint.origin}, length ${checkpoint.length}, signed ${checkpoint.timestamp}): ${consistency.text}`,
    );
  }
  if (audit) {
    const report = await audit.report();
    intact &&= report.failed === 0;
    lines.push(describeSignatures(report));
  }
  console.log(lines.join('\n'));
  process.exitCode = intact ? EXIT.valid : EXIT.broken;
});

async function walkExport(file: string, feed: Feed): Promise<void> {
  try {
    for await (const entry of readExportFile(file)) await feed([entry]);
  } catch (error) {
    if (!(error instanceof ExportLineError)) {
      fail(`Cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
    }
    fail(`${file} ${error.message}: the export is not a valid chain`, EXIT.broken);
  }
}

async function walkDatabaseBySlices(
  database: ChainDatabase,
  options: Omit<SlicedWalkOptions, 'databaseUrl' | 'length'>,
): Promise<ChainWalkResult> {
  const { ChainRepository } = await import('../provenance/chain.repository.js');
  let walk: ChainWalkResult;
  try {
    // The chain as long as it is now; entries appended during the walk are left for the next one.
    const { length } = await new ChainRepository(database.dataSource).head();
    walk = await verifyChainBySlices({ ...options, databaseUrl: database.url, length });
  } catch (error) {
    await database.close().catch(() => undefined);
    fail(`Reading the chain failed: ${(error as Error).message}`, EXIT.unavailable);
  }
  await database.close();
  return walk;
}

async function walkDatabase(database: ChainDatabase, feed: Feed): Promise<void> {
  const { ChainRepository } = await import('../provenance/chain.repository.js');
  try {
    for await (const page of new ChainRepository(database.dataSource).pages()) await feed(page);
  } catch (error) {
    await database.close().catch(() => undefined);
    fail(`Reading the chain failed: ${(error as Error).message}`, EXIT.unavailable);
  }
  await database.close();
}

function parseJobs(text: string): number {
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
    fail(`--jobs must be a whole number from 1 to 64, got "${text}"`, EXIT.usage);
  }
  return jobs;
}

function checkpointKeyPair() {
  const { keysDir } = loadCliConfig();
  try {
    return readCheckpointSigningKey(keysDir);
  } catch (error) {
    fail((error as Error).message, EXIT.usage);
  }
}

/** The current checkpoint key of KEYS_DIR, then the keys it replaced. */
function localCheckpointKeys() {
  const { publicKey } = checkpointKeyPair();
  try {
    return [publicKey, ...readPreviousCheckpointKeys(loadCliConfig().keysDir)];
  } catch (error) {
    fail((error as Error).message, EXIT.usage);
  }
}

function readCheckpointKeys(path: string | undefined): NoteKeys {
  if (path === undefined) return localCheckpointKeys();
  try {
    return readCheckpointPublicKeys(path);
  } catch (error) {
    fail((error as Error).message, EXIT.usage);
  }
}

/** A held checkpoint whose signature verifies; a forged or altered one ends the run as broken. */
function readHeldCheckpoint(file: string, keys: NoteKeys): HeldCheckpoint {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail(`Cannot read checkpoint ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  const saved = text.trimStart().startsWith('{') ? noteOfApiAnswer(file, text) : text;
  // A note saved by a shell tool often gains a newline (`jq -r`, `echo`); the signed bytes never end in one.
  const note = `${saved.trimEnd()}\n`;
  try {
    return { file, checkpoint: verifyCheckpoint(note, keys) };
  } catch (error) {
    if (error instanceof CheckpointNoteError && error.kind === 'malformed') {
      fail(`checkpoint ${file} is not a well-formed signed note: ${error.message}`, EXIT.usage);
    }
    fail(`checkpoint ${file} does not verify: ${(error as Error).message}`, EXIT.broken);
  }
}

/** The `note` of a saved GET /provenance/checkpoint answer. Its `public_key` is never trusted. */
function noteOfApiAnswer(file: string, text: string): string {
  try {
    const { note } = JSON.parse(text) as { note?: unknown };
    if (typeof note === 'string') return note;
  } catch {
    // reported below
  }
  fail(`${file} is JSON without a "note" string`, EXIT.usage);
}

function readSignatureKeys(dir: string): VerificationKeys {
  let keys: VerificationKeys;
  try {
    // Every key an auditor kept: old entries were signed with keys the service no longer holds.
    keys = readVerificationKeys(dir, Infinity);
  } catch (error) {
    fail((error as Error).message, EXIT.usage);
  }
  if (keys.shared.length === 0 && keys.perModule.size === 0) {
    fail(
      `--keys ${dir} holds neither public.pem nor modules/<module>.pem or modules/<module>/`,
      EXIT.usage,
    );
  }
  return keys;
}

function describeVerdict(verdict: ChainVerdict): string {
  if (verdict.valid) return `chain valid: ${verdict.length} entries, head ${verdict.head_hash}`;
  return (
    `chain BROKEN at sequence ${verdict.first_invalid_sequence}: ${verdict.reason}\n` +
    `  ${verdict.detail}; ${verdict.length} entries read`
  );
}

function describeSignatures(report: SignatureReport): string {
  if (report.failed === 0) return `signatures: ${report.checked} checked, all valid`;
  const first = report.firstFailure!;
  return (
    `signatures: ${report.failed} of ${report.checked} INVALID; first at sequence ` +
    `${first.sequence} (${first.module}): ${first.reason}`
  );
}
