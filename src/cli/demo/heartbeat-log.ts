import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectThat, type Narrator } from './narrator.js';

/** The log mirror is written by a stream: give it a moment to reach the file. */
const MIRROR_WAIT_MS = 3000;
const POLL_MS = 200;

interface MirrorLine {
  sequence: number;
  module: string;
  node?: string;
  status?: string;
  time: string;
}

/** Finds the heartbeats of `sequences` in the bridge's `heartbeat.log` mirror (SPEC §7). */
export async function showMirroredHeartbeats(
  narrator: Narrator,
  file: string,
  sequences: number[],
): Promise<void> {
  const wanted = new Set(sequences);
  let found: MirrorLine[] = [];
  const deadline = Date.now() + MIRROR_WAIT_MS;
  for (;;) {
    found = readMirror(file).filter((line) => wanted.has(line.sequence));
    if (found.length >= wanted.size || Date.now() >= deadline) break;
    await sleep(POLL_MS);
  }
  expectThat(
    found.length >= wanted.size,
    `${file} holds ${found.length} of the ${wanted.size} heartbeats sent (sequences ${sequences.join(', ')})`,
  );
  narrator.ok(`${file}: all ${wanted.size} heartbeats of the demo and its nodes, e.g.`);
  for (const { sequence, module, node, status, time } of found.slice(0, 2)) {
    narrator.note(
      JSON.stringify({ sequence, module, node, status, time }).replace(/}$/, ', "hash": …}'),
    );
  }
}

/** The complete lines of the mirror; a line still being written is left for the next read. */
function readMirror(file: string): MirrorLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as MirrorLine];
      } catch {
        return [];
      }
    });
}
