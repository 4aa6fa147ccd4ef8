import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { Rejection } from './rejection.js';

/**
 * Reads a request body of at most `limit` bytes. A declared `Content-Length` over the limit is
 * refused before a byte is read, and a body without one (chunked) as soon as the bytes read cross
 * it; the rest is never read (`closeAfterEarlyAnswer` then closes the connection). body-parser,
 * by contrast, reads an oversized body to its end before it answers, and an endless one never.
 */
export function readBoundedBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge());
  if (!/^(identity)?$/i.test(request.headers['content-encoding'] ?? '')) {
    return Promise.reject(
      new Rejection('malformed_request', 'Content-Encoding is not supported; send it uncompressed'),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error?: Rejection) => {
      request.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onError);
      if (!error) return resolve(Buffer.concat(chunks, size));
      request.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return stop(tooLarge());
      chunks.push(chunk);
    };
    const onEnd = () => stop();
    const onError = () => stop(new Rejection('malformed_request', 'Body could not be read'));
    request.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onError);
  });
}

function tooLarge(): Rejection {
  return new Rejection('payload_too_large', 'Request body is larger than the limit');
}

/**
 * After an answer sent before the request's body was read in full (a rejection, or a route that
 * takes no body), the socket is closed instead of reading and discarding the rest, which Node
 * would otherwise do to keep the connection alive: a client that declares 10 GB must not make the
 * server read 10 GB. The error filter also sends `Connection: close` on such answers.
 */
export function closeAfterEarlyAnswer(
  request: Request,
  response: Response,
  next: NextFunction,
): void {
  // 'finish': the answer is handed to the operating system, so destroying loses none of it.
  response.once('finish', () => {
    if (!request.complete) request.socket.destroy();
  });
  next();
}
