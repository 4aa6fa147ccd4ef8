import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { anyCodeUnit, fuzzSeed } from '../../test/support/fuzz.js';
import { envelopeOf, surelyFollowsShape } from './signed-body.dto.js';

type Kind = 'update' | 'heartbeat';
const passesValidator = (kind: Kind, body: Record<string, unknown>) =>
  validateSync(envelopeOf(kind, body)).length === 0;

/** Values a field may hold: right ones, near misses at each rule's edges, and wrong types. */
const oddValue = fc.oneof(
  fc.constantFrom(null, undefined, 0, 1.5, true, '', [], {}, ['a'], { a: 1 }),
  fc.string({ unit: anyCodeUnit, maxLength: 8 }),
);
const module = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), weight: 8 },
  fc.constantFrom('a'.repeat(65), 'module a', 'módulo', 'module\n'),
  oddValue,
);
const nonce = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{16,128}$/), weight: 8 },
  fc.constantFrom('a'.repeat(15), 'a'.repeat(129), 'a'.repeat(15) + '=', 'a'.repeat(16) + '\n'),
  oddValue,
);
const timestamp = fc.oneof(
  { arbitrary: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), weight: 8 },
  fc.constantFrom(
    '2026-12-03T10:00:00+01:00',
    '2026-12-03t10:00:00.123456789z',
    '2026-12-03T10:00:00',
    '2026-12-03 10:00:00Z',
    '2026-12-03T10:00:00Z\n',
  ),
  oddValue,
);
const signature = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9+/_-]{1,2046}={0,2}$/), weight: 8 },
  fc.constantFrom('a'.repeat(2049), 'abc===', '', 'ab cd', 'abcd\n'),
  oddValue,
);
const node = fc.oneof(
  { arbitrary: fc.string({ maxLength: 130 }), weight: 4 },
  fc.string({ unit: 'grapheme', minLength: 120, maxLength: 130 }),
  fc.constantFrom('n'.repeat(128), 'n'.repeat(129), '𝔫'.repeat(64), '𝔫'.repeat(65)),
  oddValue,
);
const objectOrNot = fc.oneof(
  { arbitrary: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }), weight: 4 },
  oddValue,
);
const status = fc.oneof(
  { arbitrary: fc.constantFrom('alive', 'degraded', 'stopping', 'Alive', 'dead'), weight: 8 },
  oddValue,
);

const payload = fc.record(
  { module, nonce, timestamp, data: objectOrNot, status, node, metrics: objectOrNot },
  // Every key present; `oddValue` gives each one the chance to be undefined.
);
const body = fc.oneof(
  { arbitrary: fc.record({ payload, signature }), weight: 8 },
  fc.record({ payload: oddValue, signature }),
);

describe('surelyFollowsShape', () => {
  const seed = fuzzSeed();

  it.each<Kind>(['update', 'heartbeat'])(
    'says true for a %s body only when class-validator accepts it',
    (kind) => {
      let sure = 0;
      fc.assert(
        fc.property(body, (generated) => {
          if (!surelyFollowsShape(kind, generated)) return;
          sure += 1;
          expect(passesValidator(kind, generated)).toBe(true);
        }),
        { numRuns: 3_000, seed },
      );
      expect(sure).toBeGreaterThan(20); // the generator reaches the accepting side
    },
  );

  it('says true for the bodies clients send, so class-validator is skipped for them', () => {
    const common = {
      module: 'module-a',
      nonce: 'n0nce-0123456789abcdef',
      timestamp: '2026-12-03T10:00:00.123Z',
    };
    const update = { payload: { ...common, data: { temperature: 21.5 } }, signature: 'c2ln' };
    const heartbeat = {
      payload: { ...common, status: 'alive', node: 'node-1', metrics: { load: 0.2 } },
      signature: 'c2ln',
    };
    expect(surelyFollowsShape('update', update)).toBe(true);
    expect(surelyFollowsShape('heartbeat', heartbeat)).toBe(true);
    expect(surelyFollowsShape('heartbeat', { ...heartbeat, payload: common })).toBe(false);
  });
});
