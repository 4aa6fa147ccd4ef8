import { join } from 'node:path';
import {
  BridgeClient,
  rejection,
  type AcceptedEntry,
  type BridgeAnswer,
} from '../../client/bridge-client.js';
import type { BridgeTokenSource } from '../../client/bridge-tokens.js';
import type { SignedBody } from '../../client/payload-signer.js';
import { SigningKey } from '../../client/signing-key.js';
import type { BucketStatus } from '../../client/bridge-wire.js';
import { REASONS, type Reason } from '../../common/reasons.js';
import type { AppConfig } from '../../config/app-config.js';
import type { SecurityFigures } from '../../health/cluster-figures.js';
import { parseExportLine } from '../../provenance/chain-export-reader.js';
import type { StoredChainEntry } from '../../provenance/chain-entry.js';
import { readCheckpointSigningKey } from '../../provenance/checkpoint-key.js';
import { keyPaths } from '../../security/key-files.js';
import { Role } from '../../security/role.js';
import { resolveJwtSecret } from '../../security/security-secrets.js';
import { tokensFromConfig } from '../../security/sender-tokens.js';
import { TokenService } from '../../security/token.service.js';
import type { DemoBridge } from './demo-bridge.js';
import { showMirroredHeartbeats } from './heartbeat-log.js';
import { runNodeRound } from './node-round.js';
import { checkCheckpointOffline } from './offline-checkpoint.js';
import { expectThat, short, StepFailure, type Narrator } from './narrator.js';

/** The module the demo signs as, and the node ids of the runner's three simulated nodes. */
const DEMO_MODULE = 'demo';
const NODES = ['demo-node-1', 'demo-node-2', 'demo-node-3'];
const ADMIN_TOKEN_TTL_SECONDS = 600;

export interface DemoStep {
  title: string;
  run(): Promise<void>;
}

interface HealthFigures {
  security: SecurityFigures;
  chain: { length: number; head_hash: string };
}

/** The seven steps of SPEC §12's demo against one bridge, sharing what earlier steps sent. */
export class DemoScenario {
  private readonly client: BridgeClient;
  private readonly senderTokens: BridgeTokenSource;
  private readonly tokens: TokenService;
  private readonly config: AppConfig;
  private before: HealthFigures | undefined;
  private heartbeat: { body: SignedBody; entry: AcceptedEntry } | undefined;

  constructor(
    private readonly bridge: DemoBridge,
    private readonly narrator: Narrator,
  ) {
    this.config = { ...bridge.config!, bridgeUrl: bridge.url };
    // Minted from the bridge's JWT secret, never BRIDGE_TOKEN: the demo also needs admin tokens.
    this.senderTokens = tokensFromConfig(
      { ...this.config, bridgeToken: undefined },
      DEMO_MODULE,
      'module',
    );
    this.client = new BridgeClient({
      baseUrl: () => bridge.url,
      module: DEMO_MODULE,
      nodeId: DEMO_MODULE,
      signingKey: new SigningKey(keyPaths(this.config.keysDir).privateKey),
      tokens: this.senderTokens,
    });
    this.tokens = new TokenService(resolveJwtSecret(this.config), this.config);
  }

  /** A short-lived admin token: provenance, checkpoints, the dashboard. */
  adminToken(ttlSeconds = ADMIN_TOKEN_TTL_SECONDS): string {
    return this.tokens.mint({ roles: [Role.Admin], ttlSeconds });
  }

  /** Reads the figures step 7 compares against, before anything is sent. */
  async prepare(): Promise<void> {
    this.before = await this.health();
  }

  readonly steps: DemoStep[] = [
    { title: 'A valid signed heartbeat is accepted', run: () => this.validHeartbeat() },
    { title: 'An invalid signature is rejected', run: () => this.invalidSignature() },
    { title: 'A replay is rejected', run: () => this.replay() },
    {
      title: 'The provenance chain grows and verifies; a signed checkpoint is checked offline',
      run: () => this.chain(),
    },
    { title: 'Plugins run on three isolated nodes', run: () => this.plugins() },
    {
      title: 'The heartbeats are visible in /bucket/status and the logs',
      run: () => this.heartbeatsVisible(),
    },
    {
      title: "/core/health's security figures moved by exactly what the demo sent",
      run: () => this.securityFigures(),
    },
  ];

  private async validHeartbeat(): Promise<void> {
    const body = this.client.sign(this.client.newPayload({ status: 'alive', node: DEMO_MODULE }));
    const answer = await this.post('/core/heartbeat', body, 'a module token bound to "demo"');
    expectThat(answer.status === 201, describe('POST', '/core/heartbeat', answer));
    const entry = answer.body as AcceptedEntry;
    this.narrator.answer(
      `${answer.status} accepted: sequence ${entry.sequence}, hash ${short(entry.hash)}, previous ${short(entry.previous_hash)}`,
    );
    this.heartbeat = { body, entry };
  }

  private async invalidSignature(): Promise<void> {
    const signed = this.client.sign(this.client.newPayload({ status: 'alive', node: DEMO_MODULE }));
    const body = { ...signed, payload: { ...signed.payload, status: 'degraded' } };
    this.narrator.note('the payload says "degraded" after it was signed saying "alive"');
    await this.expectRejection(await this.post('/core/heartbeat', body), 'invalid_signature');
  }

  private async replay(): Promise<void> {
    this.narrator.note(
      `step 1's exact body again (nonce ${short(this.heartbeat!.body.payload.nonce as string)})`,
    );
    await this.expectRejection(
      await this.post('/core/heartbeat', this.heartbeat!.body),
      'replay_detected',
    );
  }

  private async chain(): Promise<void> {
    const admin = this.adminToken();
    for (const reading of [21.5, 21.7]) {
      const { entry } = await this.client.sendUpdate({
        sensor: 'demo-temperature',
        celsius: reading,
      });
      this.narrator.request(
        `POST /core/update  {"sensor":"demo-temperature","celsius":${reading}} (signed)`,
      );
      this.narrator.answer(`201 accepted: sequence ${entry.sequence}, hash ${short(entry.hash)}`);
    }
    this.narrator.request(`GET /provenance/export?from=${this.before!.chain.length + 1}  (admin)`);
    for (const entry of await this.entriesSince(this.before!.chain.length, admin)) {
      this.narrator.note(
        `#${entry.sequence} ${entry.type.padEnd(9)} ${entry.module.padEnd(8)} hash ${short(entry.hash)} ← previous ${short(entry.previousHash)}`,
      );
    }
    this.narrator.request('GET /provenance/verify  (admin)');
    const verify = await this.client.request('GET', '/provenance/verify', admin);
    const verdict = verify.body as { valid?: boolean; length?: number; head_hash?: string };
    expectThat(
      verify.status === 200 && verdict.valid === true,
      describe('GET', '/provenance/verify', verify),
    );
    this.narrator.answer(`200 valid: ${verdict.length} entries, head ${short(verdict.head_hash!)}`);

    this.narrator.request('POST /provenance/checkpoint  (admin: sign the current head now)');
    const signed = await this.client.request('POST', '/provenance/checkpoint', admin);
    const note = (signed.body as { note?: unknown } | undefined)?.note;
    expectThat(
      signed.status === 201 && typeof note === 'string',
      describe('POST', '/provenance/checkpoint', signed),
    );
    this.narrator.answer(
      `${signed.status} a signed note: ${JSON.stringify(note.split('\n')[0])}, …`,
    );
    const { publicKey } = readCheckpointSigningKey(this.config.keysDir);
    this.narrator.note(
      `checked offline with the public half of ${keyPaths(this.config.keysDir).checkpointKey}:`,
    );
    await checkCheckpointOffline(this.narrator, note, publicKey, async () => {
      const exported = await this.client.request('GET', '/provenance/export', admin);
      expectThat(exported.status === 200, describe('GET', '/provenance/export', exported));
      return exported.text;
    });
  }

  private plugins(): Promise<void> {
    return runNodeRound(this.narrator, {
      config: this.config,
      nodes: NODES,
      reportsDir: join(this.bridge.workDir, 'automation'),
      nodeEnv: this.bridge.nodeEnv,
    });
  }

  private async heartbeatsVisible(): Promise<void> {
    this.narrator.request('GET /bucket/status');
    const status: BucketStatus = await this.client.status();
    const modules = new Map(status.modules.map((module) => [module.module, module]));
    const expected: [string, string][] = [
      [DEMO_MODULE, DEMO_MODULE],
      ...NODES.map((node): [string, string] => [BridgeClient.automationModule(node), node]),
    ];
    for (const [module, node] of expected) {
      const seen = modules.get(module);
      expectThat(
        seen !== undefined &&
          seen.heartbeats > 0 &&
          seen.last_node === node &&
          seen.state === 'alive',
        `/bucket/status shows ${module} as ${JSON.stringify(seen ?? 'missing')}, expected alive heartbeats from node ${node}`,
      );
      this.narrator.answer(
        `${module.padEnd(24)} ${seen.heartbeats} heartbeat(s), last from ${seen.last_node} at ${seen.last_heartbeat}, ${seen.state}`,
      );
    }
    await this.heartbeatLog();
  }

  /** The heartbeats the demo and its nodes sent, in the bridge's `LOG_DIR/heartbeat.log` mirror. */
  private async heartbeatLog(): Promise<void> {
    if (!this.config.logDir) {
      return this.narrator.note('LOG_DIR is none here: the heartbeat.log mirror is not checked');
    }
    const sent = await this.entriesSince(this.before!.chain.length, this.adminToken());
    const sequences = sent
      .filter((entry) => entry.type === 'heartbeat' && isDemoSender(entry.module))
      .map((entry) => entry.sequence);
    await showMirroredHeartbeats(
      this.narrator,
      join(this.config.logDir, 'heartbeat.log'),
      sequences,
    );
  }

  private async securityFigures(): Promise<void> {
    const before = this.before!;
    const after = await this.health();
    const entries = await this.entriesSince(before.chain.length, this.adminToken());
    const others = entries.filter((entry) => !isDemoSender(entry.module));
    const count = (type: string) => entries.filter((entry) => entry.type === type).length;
    this.narrator.note(
      `${entries.length} new chain entries: ${entries.length - others.length} sent by the demo and its nodes` +
        (others.length > 0 ? `, ${others.length} by other senders of this bridge` : ''),
    );
    const figures: [string, (security: SecurityFigures) => number, number][] = [
      ['accepted.heartbeats', (security) => security.accepted.heartbeats, count('heartbeat')],
      ['accepted.updates', (security) => security.accepted.updates, count('update')],
      ['invalid_signatures', (security) => security.invalid_signatures, 1],
      ['replay_attempts', (security) => security.replay_attempts, 1],
      ['rejected_total', (security) => security.rejected_total, 2],
    ];
    const wrong: string[] = [];
    for (const [name, pick, sent] of figures) {
      const [from, to] = [pick(before.security), pick(after.security)];
      const line = `${name.padEnd(20)} ${String(from).padStart(5)} → ${String(to).padStart(5)}  (+${to - from}, sent +${sent})`;
      if (to - from === sent) this.narrator.ok(line);
      else {
        this.narrator.failed(line);
        wrong.push(`${name} +${to - from}, sent +${sent}`);
      }
    }
    expectThat(
      wrong.length === 0 && (this.bridge.started ? others.length === 0 : true),
      wrong.length > 0
        ? `moved otherwise than sent: ${wrong.join('; ')}`
        : `${others.length} entries the demo did not send were appended to its own bridge`,
    );
  }

  private async post(
    path: '/core/heartbeat',
    body: SignedBody,
    token = 'its module token',
  ): Promise<BridgeAnswer> {
    const { payload } = body;
    this.narrator.request(
      `POST ${path}  module=${payload.module} node=${payload.node} status=${payload.status} nonce=${short(payload.nonce as string)} signature=${short(body.signature)}  (${token})`,
    );
    return this.client.request('POST', path, this.senderTokens.forHeartbeat(), body);
  }

  private async expectRejection(answer: BridgeAnswer, reason: Reason): Promise<void> {
    const body = answer.body as { reason?: string; message?: string } | undefined;
    this.narrator.answer(
      `${answer.status} ${body?.reason ?? '(no reason)'}: ${body?.message ?? answer.text}`,
    );
    expectThat(
      answer.status === REASONS[reason].status && body?.reason === reason,
      `expected ${REASONS[reason].status} ${reason}; ${describe('POST', '/core/heartbeat', answer)}`,
    );
  }

  private async health(): Promise<HealthFigures> {
    const answer = await this.client.request(
      'GET',
      '/core/health',
      this.senderTokens.forHeartbeat(),
    );
    const report = answer.body as Partial<HealthFigures> | undefined;
    if (report?.security && report.chain) return { security: report.security, chain: report.chain };
    throw new StepFailure(
      answer.status === 200 && answer.body !== undefined
        ? `GET /core/health answered 200 without the security figures of a bridge: is ${this.bridge.url} a bridge?`
        : describe('GET', '/core/health', answer),
    );
  }

  private async entriesSince(length: number, admin: string): Promise<StoredChainEntry[]> {
    const answer = await this.client.request('GET', `/provenance/export?from=${length + 1}`, admin);
    expectThat(answer.status === 200, describe('GET', '/provenance/export', answer));
    return answer.text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, index) => parseExportLine(line, index + 1));
  }
}

/** The demo's own module and its nodes' automation modules. */
function isDemoSender(module: string): boolean {
  return (
    module === DEMO_MODULE || NODES.some((node) => module === BridgeClient.automationModule(node))
  );
}

function describe(method: string, path: string, answer: BridgeAnswer): string {
  if (answer.body === undefined) {
    return `${method} ${path} answered ${answer.status} with no JSON (${short(answer.text.trim(), 80) || 'empty'}): is this a bridge?`;
  }
  return rejection(method, path, answer).message;
}
