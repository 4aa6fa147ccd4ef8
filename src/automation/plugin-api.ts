// Everything a plugin author imports, from one place, so the folders behind it can move without
// touching a plugin.
export { AutomationPlugin, type PluginMeta } from './plugins/plugin.decorator.js';
export type {
  DatabaseProbe,
  PluginContext,
  PluginLogger,
  PluginResult,
  RunnablePlugin,
} from './plugins/plugin.types.js';
export type { BridgeClient, SentEvent, AcceptedEntry } from '../client/bridge-client.js';
export {
  HEARTBEAT_STATUSES,
  type BucketStatus,
  type HeartbeatStatus,
  type ModuleStatus,
} from '../client/bridge-wire.js';
/** To check what the bridge chained: SPEC §5's entry hash over the canonical payload. */
export { canonicalJson } from '../common/canonical-json.js';
export { chainHash } from '../provenance/chain-hash.js';
