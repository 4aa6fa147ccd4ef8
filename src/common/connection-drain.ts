import type { Server } from 'node:http';
import {
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';

/** After this long past the start of shutdown, connections still open are cut. */
export const FORCE_CLOSE_AFTER_MS = 30_000;

/**
 * `server.close()` waits for every open connection, and a keep-alive client that keeps sending
 * never lets its connection go idle. Once shutdown begins, each response therefore asks the
 * client to close (`Connection: close`), idle sockets are closed at once, and a deadline cuts
 * whatever is left, so SIGTERM always ends.
 */
@Injectable()
export class ConnectionDrain implements BeforeApplicationShutdown, OnApplicationShutdown {
  private draining = false;
  private forceClose: NodeJS.Timeout | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  use(_request: Request, response: Response, next: NextFunction): void {
    if (this.draining) response.setHeader('Connection', 'close');
    next();
  }

  beforeApplicationShutdown(): void {
    this.draining = true;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    server.closeIdleConnections();
    this.forceClose = setTimeout(() => server.closeAllConnections(), FORCE_CLOSE_AFTER_MS);
    this.forceClose.unref();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.forceClose);
  }
}
