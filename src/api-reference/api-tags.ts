/**
 * The sections of the API reference, in the order `GET /docs` shows them. Each controller names
 * its section with `@ApiTags(API_TAGS.….name)`; the document lists them all with their descriptions.
 */
export const API_TAGS = {
  ingestion: {
    name: 'Ingestion',
    description: 'Signed updates and heartbeats from the modules, and the state of each module',
  },
  health: { name: 'Health', description: 'Probes and the security figures' },
  chain: {
    name: 'Provenance chain',
    description: 'Verify, export and read the chain of every accepted event',
  },
  checkpoints: {
    name: 'Checkpoints',
    description: 'Signed checkpoints of the chain and their key',
  },
  proofs: { name: 'Proofs', description: 'Inclusion and consistency proofs, receipts' },
  transparencyLog: {
    name: 'Transparency log',
    description: 'The C2SP tlog-tiles read API for existing tlog tools',
  },
  automation: { name: 'Automation', description: 'Jobs, their runs, and running one now' },
  insight: { name: 'InsightFlow', description: "The dashboard's page and its data" },
  metrics: { name: 'Metrics', description: 'Prometheus metrics' },
  reference: { name: 'API reference', description: 'This document and its browsable page' },
} as const;
