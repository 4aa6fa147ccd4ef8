import { randomBytes } from 'node:crypto';
import { canonicalJson, type JsonObject } from '../common/canonical-json.js';
import { isPayloadSignatureValid, signPayload, type SignedBody } from './payload-signer.js';
import {
  AUTOMATION_MODULE_PREFIX,
  NAME_PATTERN,
  type BucketStatus,
  type HeartbeatStatus,
} from './bridge-wire.js';
import type { BridgeTokenSource } from './bridge-tokens.js';
import type { SigningKey } from './signing-key.js';

/** A call that gets no answer in this time is given up. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The 201 body of SPEC §4. */
export interface AcceptedEntry {
  status: 'accepted';
  sequence: number;
  hash: string;
  previous_hash: string;
  received_at: string;
}

/** An HTTP answer: the status, the body parsed as JSON (undefined if it is not JSON), the text. */
export interface BridgeAnswer {
  status: number;
  body: unknown;
  text: string;
}

/** What was sent and how the bridge answered. */
export interface SentEvent {
  body: SignedBody;
  entry: AcceptedEntry;
}

export class BridgeError extends Error {
  override name = 'BridgeError';
}

/** No HTTP answer at all: the bridge is down, the URL is wrong, or the network is. */
export class BridgeUnreachableError extends BridgeError {
  override name = 'BridgeUnreachableError';
}

/** The bridge answered, but not with what the call expects. */
export class BridgeRejectedError extends BridgeError {
  override name = 'BridgeRejectedError';

  constructor(
    readonly status: number,
    /** The SPEC §4 reason when the body has one. */
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface BridgeClientOptions {
  /** Resolved for every call: inside the service its own port is known only once it listens. */
  baseUrl: () => string;
  /** `payload.module` of everything this client signs. */
  module: string;
  /** Carried as `payload.node` of heartbeats. */
  nodeId: string;
  signingKey: SigningKey;
  tokens: BridgeTokenSource;
  /** Aborts calls in flight, e.g. when an automation run times out. */
  signal?: AbortSignal;
}

/** Signs payloads (SPEC §2) and talks to the bridge's REST API. */
export class BridgeClient {
  readonly module: string;
  readonly nodeId: string;

  constructor(private readonly options: BridgeClientOptions) {
    this.module = options.module;
    this.nodeId = options.nodeId;
  }

  /** The module name the automation of `nodeId` signs as. */
  static automationModule(nodeId: string): string {
    const module = `${AUTOMATION_MODULE_PREFIX}${nodeId}`;
    if (!NAME_PATTERN.test(module)) {
      throw new Error(
        `the automation signs as module "${module}", which is not a valid module name (1-64 characters of A-Z a-z 0-9 . _ -): choose a shorter NODE_ID`,
      );
    }
    return module;
  }

  /** A fresh payload of this module: new nonce (128 random bits) and the current time. */
  newPayload(fields: JsonObject): JsonObject {
    return {
      module: this.module,
      nonce: randomBytes(16).toString('hex'),
      timestamp: new Date().toISOString(),
      ...fields,
    };
  }

  sign(payload: JsonObject): SignedBody {
    return signPayload(this.options.signingKey.get().privateKey, payload);
  }

  /** Verifies locally, with the public half of the signing key. */
  verify(body: SignedBody): boolean {
    return isPayloadSignatureValid(
      this.options.signingKey.get().publicKey,
      canonicalJson(body.payload),
      body.signature,
    );
  }

  /** A signed heartbeat carrying this node's id. */
  sendHeartbeat(status: HeartbeatStatus = 'alive', fields: JsonObject = {}): Promise<SentEvent> {
    const body = this.sign(this.newPayload({ status, node: this.nodeId, ...fields }));
    return this.sendSigned('/core/heartbeat', body, this.options.tokens.forHeartbeat());
  }

  /** A signed update of `data`. */
  sendUpdate(data: JsonObject): Promise<SentEvent> {
    const body = this.sign(this.newPayload({ data }));
    return this.sendSigned('/core/update', body, this.options.tokens.forUpdate());
  }

  private async sendSigned(
    path: '/core/update' | '/core/heartbeat',
    body: SignedBody,
    token: string,
  ): Promise<SentEvent> {
    const answer = await this.request('POST', path, token, body);
    if (answer.status !== 201) throw rejection('POST', path, answer);
    return { body, entry: answer.body as AcceptedEntry };
  }

  /** `GET /bucket/status`: the first page of modules, or only `module` when given. */
  async status(module?: string): Promise<BucketStatus> {
    const path = module ? `/bucket/status?module=${encodeURIComponent(module)}` : '/bucket/status';
    const answer = await this.request('GET', path, this.options.tokens.forRead());
    if (answer.status !== 200) throw rejection('GET', '/bucket/status', answer);
    return answer.body as BucketStatus;
  }

  /** Any answer of an unauthenticated GET, e.g. the liveness probe. */
  async getPublic(path: string): Promise<BridgeAnswer> {
    return this.request('GET', path, undefined);
  }

  /**
   * One call and whatever the bridge answers, rejections included (the demo shows them). Throws
   * only when there is no answer.
   */
  async request(
    method: 'GET' | 'POST',
    path: string,
    token: string | undefined,
    body?: SignedBody,
  ): Promise<BridgeAnswer> {
    const base = this.options.baseUrl().replace(/\/+$/, '');
    const signals = [AbortSignal.timeout(REQUEST_TIMEOUT_MS)];
    if (this.options.signal) signals.push(this.options.signal);
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      if (this.options.signal?.aborted) throw this.options.signal.reason;
      throw new BridgeUnreachableError(
        `cannot reach the bridge at ${base}: ${describeFailure(error)}`,
      );
    }
    const text = await response.text();
    return { status: response.status, body: parseJson(text), text };
  }
}

/** The error of an answer a call did not expect, naming the status, reason and message. */
export function rejection(method: string, path: string, answer: BridgeAnswer): BridgeRejectedError {
  const body = (answer.body ?? {}) as { reason?: unknown; message?: unknown };
  const reason = typeof body.reason === 'string' ? body.reason : undefined;
  const detail = typeof body.message === 'string' ? `: ${body.message}` : '';
  return new BridgeRejectedError(
    answer.status,
    reason,
    `${method} ${path} answered ${answer.status}${reason ? ` ${reason}` : ''}${detail}`,
  );
}

/** fetch() reports "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a timeout) is its cause. */
function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError')
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
