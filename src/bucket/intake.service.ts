import { Injectable } from '@nestjs/common';
import { EVENT_MIRROR_FILES, LogMirror } from '../common/log-mirror.js';
import { OutcomeRecorder } from '../common/outcome-recorder.js';
import { toExportLine, type StoredChainEntry } from '../provenance/chain-entry.js';
import { RecentNonces } from '../security/recent-nonces.js';
import type { VerifiedEnvelope } from '../security/signed-request.js';
import { IngestionQueue } from './ingestion.queue.js';
import type { IncomingEvent } from './ingestion.types.js';

/** The 201 body of SPEC §4. */
export interface AcceptedResponse {
  status: 'accepted';
  sequence: number;
  hash: string;
  previous_hash: string;
  received_at: string;
}

/** Takes verified updates and heartbeats into the store and the chain. */
@Injectable()
export class IntakeService {
  constructor(
    private readonly queue: IngestionQueue,
    private readonly recentNonces: RecentNonces,
    private readonly mirror: LogMirror,
    private readonly outcomes: OutcomeRecorder,
  ) {}

  acceptUpdate(envelope: VerifiedEnvelope): Promise<AcceptedResponse> {
    return this.accept(envelope, {});
  }

  acceptHeartbeat(envelope: VerifiedEnvelope): Promise<AcceptedResponse> {
    const { status, node } = envelope.payload;
    return this.accept(envelope, {
      status: status as string,
      node: typeof node === 'string' ? node : undefined,
    });
  }

  private async accept(
    envelope: VerifiedEnvelope,
    details: Pick<IncomingEvent, 'status' | 'node'>,
  ): Promise<AcceptedResponse> {
    const entry = await this.queue.submit({
      type: envelope.kind,
      module: envelope.module,
      nonce: envelope.nonce,
      signedAt: envelope.signedAt,
      canonicalPayload: envelope.canonicalPayload,
      signature: envelope.signature,
      ...details,
    });
    this.recentNonces.remember(envelope.nonce);
    this.outcomes.accepted(entry.type);
    this.mirrorAccepted(entry, details);
    return {
      status: 'accepted',
      sequence: entry.sequence,
      hash: entry.hash,
      previous_hash: entry.previousHash,
      received_at: entry.timestamp,
    };
  }

  private mirrorAccepted(
    entry: StoredChainEntry,
    details: Pick<IncomingEvent, 'status' | 'node'>,
  ): void {
    if (!this.mirror.enabled) return;
    const summary = {
      time: entry.timestamp,
      module: entry.module,
      sequence: entry.sequence,
      hash: entry.hash,
    };
    // Heartbeats also carry their status and node; `undefined` fields are not serialized.
    this.mirror.write(EVENT_MIRROR_FILES[entry.type], {
      ...summary,
      status: details.status,
      node: details.node,
    });
    this.mirror.write('provenance_chain.jsonl', toExportLine(entry));
  }
}
