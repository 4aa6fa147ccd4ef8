import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
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

/** Appends JSON lines to the mirror files when `LOG_DIR` is set; does nothing otherwise. */
@Injectable()
export class LogMirror implements OnApplicationShutdown {
  private readonly streams = new Map<MirrorFile, WriteStream>();
  private readonly logDir: string | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.logDir = config.logDir;
    if (this.logDir) mkdirSync(this.logDir, { recursive: true });
  }

  get enabled(): boolean {
    return this.logDir !== undefined;
  }

  /** Writes one line; `line` is an object (serialized as JSON) or an already serialized line. */
  write(file: MirrorFile, line: object | string): void {
    if (!this.logDir) return;
    let stream = this.streams.get(file);
    if (!stream) {
      stream = createWriteStream(join(this.logDir, file), { flags: 'a' });
      this.streams.set(file, stream);
    }
    stream.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [...this.streams.values()].map((stream) => new Promise((resolve) => stream.end(resolve))),
    );
    this.streams.clear();
  }
}
