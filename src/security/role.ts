export enum Role {
  Module = 'module',
  Automation = 'automation',
  Admin = 'admin',
  /** Read-only: provenance, proofs, checkpoints, status and health; no writes, no automation control. */
  Auditor = 'auditor',
}

export const ALL_ROLES: readonly Role[] = [Role.Module, Role.Automation, Role.Admin, Role.Auditor];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ALL_ROLES as readonly string[]).includes(value);
}

/** The verified identity behind a bearer token. */
export interface Principal {
  readonly roles: readonly Role[];
  /** When present on a module token, the only module this token may write as. */
  readonly subject?: string;
  /** When the token expires (its `exp`, epoch milliseconds): what outlives one request ends then. */
  readonly expiresAtMs: number;
}
