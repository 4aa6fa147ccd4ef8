import type { JsonObject } from '../../common/canonical-json.js';
import type { BridgeClient } from '../../client/bridge-client.js';

/** The logger a plugin writes to; lines carry the job and plugin name. */
export interface PluginLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A direct database round trip, offered only to plugins running inside the service. */
export interface DatabaseProbe {
  /** Milliseconds one trivial query took from this process to PostgreSQL and back. */
  roundTripMs(): Promise<number>;
}

/** Everything a plugin gets for one run. */
export interface PluginContext {
  /** The node this run belongs to: NODE_ID in the service, node-001… in the runner. */
  readonly nodeId: string;
  /** The job that triggered the run. */
  readonly job: string;
  /** The job's `params`, overridden key by key by the action's own `params`. */
  readonly params: JsonObject;
  /** Signs and sends to the bridge as module `automation-<nodeId>`. */
  readonly bridge: BridgeClient;
  readonly logger: PluginLogger;
  /** Aborted when the run times out or the engine shuts down: pass it on to long waits. */
  readonly signal: AbortSignal;
  /** Present only inside the service. */
  readonly database?: DatabaseProbe;
}

/** What a plugin may report; it is stored with the run. */
export type PluginResult = JsonObject;

/** The contract of a class tagged with `@AutomationPlugin`. */
export interface RunnablePlugin {
  run(context: PluginContext): Promise<PluginResult | void> | PluginResult | void;
}
