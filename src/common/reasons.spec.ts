import { readFileSync } from 'node:fs';
import { REASONS } from './reasons.js';

describe('REASONS', () => {
  it("is docs/security.md's reason table, row for row", () => {
    const readme = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(\w+)` \| (\d{3}) \| (yes|no) \| (.+) \|$/gm)].map(
      ([, reason, status, security, description]) => [
        reason,
        Number(status),
        security,
        description,
      ],
    );
    const expected = Object.entries(REASONS).map(([reason, entry]) => [
      reason,
      entry.status,
      entry.security ? 'yes' : 'no',
      entry.description,
    ]);
    expect(rows).toEqual(expected);
  });

  it('holds every SPEC §4 reason as a security rejection', () => {
    const spec = [
      'missing_token',
      'invalid_token',
      'token_expired',
      'invalid_issuer',
      'forbidden_role',
      'malformed_request',
      'payload_too_large',
      'invalid_signature',
      'module_mismatch',
      'stale_timestamp',
      'replay_detected',
      'rate_limited',
      'store_unavailable',
    ];
    const security = Object.entries(REASONS).filter(([, entry]) => entry.security);
    expect(security.map(([reason]) => reason)).toEqual(spec);
  });
});
