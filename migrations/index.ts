import { InitialSchema1764150000000 } from './1764150000000-initial-schema.js';
import { Checkpoints1795693800000 } from './1795693800000-checkpoints.js';
import { AutomationRuns1795700000000 } from './1795700000000-automation-runs.js';
import { IngestFunction1795900000000 } from './1795900000000-ingest-function.js';
import { IngestEventsTyped1796000000000 } from './1796000000000-ingest-events-typed.js';
import { MerkleTree1797000000000 } from './1797000000000-merkle-tree.js';
import { CheckpointRoot1797000000001 } from './1797000000001-checkpoint-root.js';
import { Insight1797500000000 } from './1797500000000-insight.js';
import { RejectionCounts1798000000000 } from './1798000000000-rejection-counts.js';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and tests run the same set. */
export const MIGRATIONS = [
  InitialSchema1764150000000,
  Checkpoints1795693800000,
  AutomationRuns1795700000000,
  IngestFunction1795900000000,
  IngestEventsTyped1796000000000,
  MerkleTree1797000000000,
  CheckpointRoot1797000000001,
  Insight1797500000000,
  RejectionCounts1798000000000,
];
