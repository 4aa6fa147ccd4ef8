import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { BridgeRequest } from '../security/signed-request.js';
import { InsightSnapshotService, SNAPSHOT_MAX_AGE_MS } from './insight-snapshot.service.js';

/**
 * Open `text/event-stream` answers. Every stream asks the shared snapshot once per
 * `SNAPSHOT_MAX_AGE_MS`, so N streams still cost one round of queries per second.
 */
@Injectable()
export class InsightStreams implements BeforeApplicationShutdown {
  private readonly logger = new Logger(InsightStreams.name);
  /** Open streams and how to end each one. */
  private readonly open = new Set<() => void>();

  constructor(private readonly snapshots: InsightSnapshotService) {}

  stream(request: Request, response: Response): void {
    response.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    response.flushHeaders();
    let lastSent = '';
    let closed = false;
    // An endless answer never lets its connection go idle: at shutdown it is ended and cut.
    const end = () => response.end(() => request.socket.destroy());
    // The token is checked when the stream opens; the stream ends once it expires, so an expired
    // token reads nothing more (the page then reconnects and meets 401 token_expired). Checked on
    // each beat rather than by a timer, which could not wait as long as a token may live.
    const expiresAtMs = (request as BridgeRequest).principal?.expiresAtMs ?? Infinity;
    const push = async () => {
      if (Date.now() >= expiresAtMs) {
        clearInterval(timer);
        if (!closed) {
          response.write(`event: expired\ndata: {}\n\n`);
          end();
        }
        return;
      }
      try {
        const snapshot = await this.snapshots.snapshot();
        if (closed || snapshot.generated_at === lastSent) return;
        lastSent = snapshot.generated_at;
        response.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
      } catch (error) {
        this.logger.warn(`insight snapshot failed: ${(error as Error).message}`);
        if (!closed) response.write(`event: unavailable\ndata: {}\n\n`);
      }
    };
    const timer = setInterval(() => void push(), SNAPSHOT_MAX_AGE_MS);
    void push();
    this.open.add(end);
    request.on('close', () => {
      closed = true;
      clearInterval(timer);
      this.open.delete(end);
    });
  }

  beforeApplicationShutdown(): void {
    for (const end of this.open) end();
  }
}
