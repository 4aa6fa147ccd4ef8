import type { BridgeTokenSource } from '../client/bridge-tokens.js';
import type { DatabaseProbe } from './plugins/plugin.types.js';
import type { SigningKey } from '../client/signing-key.js';

/** Injection token of the `AutomationHost` the service or the runner provides. */
export const AUTOMATION_HOST = Symbol('AUTOMATION_HOST');

/** What differs between running plugins inside the service and in the CLI runner. */
export interface AutomationHost {
  nodeId: string;
  /** Where plugins send: the service itself, or BRIDGE_URL from the runner. */
  bridgeUrl(): string;
  tokens: BridgeTokenSource;
  signingKey: SigningKey;
  database?: DatabaseProbe;
}
