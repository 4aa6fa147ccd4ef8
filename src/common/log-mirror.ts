import {
  createWriteStream,
  existsSync,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  type WriteStream,
} from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import type { EventKind } from './event-kinds.js';

/** The seed's file of each accepted event kind: a new kind cannot compile without one. */
export const EVENT_MIRROR_FILES = {
  update: 'core_sync.log',
  heartbeat: 'heartbeat.log',
} as const satisfies Record<EventKind, string>;

/** The seed's log files under `LOG_DIR` (SPEC §7). Convenience mirrors: the database is the truth. */
export type MirrorFile =
  | (typeof EVENT_MIRROR_FILES)[EventKind]
  | 'security_rejects.log'
  | 'provenance_chain.jsonl'
  | 'metrics.jsonl'
  | 'flow.log';

/** Mirrors may hold module data and client addresses: readable by the service's user only. */
const MIRROR_FILE_MODE = 0o600;

interface OpenMirror {
  stream: WriteStream;
  bytes: number;
}

/**
 * Appends JSON lines to the mirror files when `LOG_DIR` is set; does nothing otherwise. A file that
 * would grow past `LOG_MIRROR_MAX_BYTES` is rotated first (`<file>` → `<file>.1` → … →
 * `<file>.<LOG_MIRROR_FILES>`, the oldest dropped), so the mirrors never take more than
 * (LOG_MIRROR_FILES + 1) × LOG_MIRROR_MAX_BYTES each. Each replica rotates its own `LOG_DIR`.
 */
@Injectable()
export class LogMirror implements OnApplicationShutdown {
  private readonly files = new Map<MirrorFile, OpenMirror>();
  private readonly logDir: string | undefined;
  private readonly maxBytes: number;
  private readonly keptFiles: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.logDir = config.logDir;
    this.maxBytes = config.logMirrorMaxBytes;
    this.keptFiles = config.logMirrorFiles;
    if (this.logDir) mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
  }

  get enabled(): boolean {
    return this.logDir !== undefined;
  }

  /** Writes one line; `line` is an object (serialized as JSON) or an already serialized line. */
  write(file: MirrorFile, line: object | string): void {
    if (!this.logDir) return;
    const text = `${typeof line === 'string' ? line : JSON.stringify(line)}\n`;
    const size = Buffer.byteLength(text);
    let mirror = this.files.get(file) ?? this.open(file);
    if (mirror.bytes > 0 && mirror.bytes + size > this.maxBytes) {
      mirror.stream.end(); // what it still buffers goes to the renamed file
      this.rotate(file);
      mirror = this.open(file);
    }
    mirror.stream.write(text);
    mirror.bytes += size;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [...this.files.values()].map(({ stream }) => new Promise((resolve) => stream.end(resolve))),
    );
    this.files.clear();
  }

  private open(file: MirrorFile): OpenMirror {
    const path = join(this.logDir!, file);
    // Opened at once, so that a rotation right after finds the file where it is written.
    const fd = openSync(path, 'a', MIRROR_FILE_MODE);
    // `mode` applies only to a new file; one left by an older version is tightened too.
    fchmodSync(fd, MIRROR_FILE_MODE);
    const mirror = { stream: createWriteStream('', { fd }), bytes: fstatSync(fd).size };
    this.files.set(file, mirror);
    return mirror;
  }

  private rotate(file: MirrorFile): void {
    const path = join(this.logDir!, file);
    for (let index = this.keptFiles - 1; index >= 1; index -= 1) {
      if (existsSync(`${path}.${index}`)) renameSync(`${path}.${index}`, `${path}.${index + 1}`);
    }
    renameSync(path, `${path}.1`);
  }
}
