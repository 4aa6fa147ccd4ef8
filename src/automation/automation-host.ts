import type { BridgeTokenSource } from './bridge-tokens.js';
import type { DatabaseProbe } from './plugin.types.js';
import type { SigningKey } from './signing-key.js';

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
