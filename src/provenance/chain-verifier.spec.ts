import { join } from 'node:path';
import { VECTORS_DIR } from '../../test/support/vectors.js';
import type { StoredChainEntry } from './chain-entry.js';
import { ExportLineError, parseExportLine, readExportFile } from './chain-export-reader.js';
import { ChainVerification, combineSlices, verifyChain } from './chain-verifier.js';

type Tamper = (chain: StoredChainEntry[]) => StoredChainEntry[];

const TAMPERINGS: [string, Tamper, number, string][] = [
  [
    'a changed payload',
    (c) => [c[0], { ...c[1], canonicalPayload: '{}' }, c[2]],
    2,
    'hash_mismatch',
  ],
  ['a changed signature', (c) => [c[0], c[1], { ...c[2], signature: 'x' }], 3, 'hash_mismatch'],
  ['a missing entry', (c) => [c[0], c[2]], 2, 'gap'],
  ['entries out of order', (c) => [c[0], c[2], c[1]], 2, 'gap'],
  [
    'entries swapped with their sequences',
    (c) => [c[0], { ...c[2], sequence: 2 }, { ...c[1], sequence: 3 }],
    2,
    'broken_link',
  ],
  [
    'an altered previous_hash',
    (c) => [c[0], c[1], { ...c[2], previousHash: c[0].hash }],
    3,
    'broken_link',
  ],
  [
    'a broken link and a changed payload on one entry',
    (c) => [c[0], { ...c[1], previousHash: '1'.repeat(64), canonicalPayload: '{}' }, c[2]],
    2,
    'broken_link',
  ],
];

/** Every way to cut `entries` into consecutive slices, empty ones included. */
function* cuts(entries: StoredChainEntry[]): Generator<StoredChainEntry[][]> {
  for (let mask = 0; mask < 3 ** (entries.length + 1); mask += 1) {
    const slices: StoredChainEntry[][] = [[]];
    let rest = mask;
    for (const entry of entries) {
      // Before each entry: stay in the slice, start a new one, or put an empty slice between.
      const cut = rest % 3;
      rest = Math.floor(rest / 3);
      if (cut === 2) slices.push([]);
      if (cut >= 1) slices.push([]);
      slices[slices.length - 1].push(entry);
    }
    if (rest % 3 === 1) slices.push([]);
    yield slices;
  }
}

function walkInSlices(slices: StoredChainEntry[][], recordHashesAt: number[] = []) {
  return combineSlices(
    slices.map((slice) => {
      const verification = ChainVerification.unanchored(recordHashesAt);
      slice.forEach((entry) => verification.add(entry));
      return verification.slice();
    }),
  );
}

describe('chain verification over the shared Python vectors', () => {
  let chain: StoredChainEntry[];

  beforeAll(async () => {
    chain = [];
    for await (const entry of readExportFile(join(VECTORS_DIR, 'chain.jsonl'))) chain.push(entry);
  });

  it('accepts the vector chain, whose payload keys are not in canonical order', async () => {
    expect(chain[0].canonicalPayload.startsWith('{"data":')).toBe(true);
    expect(await verifyChain(chain)).toEqual({
      valid: true,
      length: 3,
      head_hash: 'e7e13fcd68bdc66635cef5674c7ba3f24e18e0be30950a5a40cba53fa4ad0485',
    });
  });

  it.each(TAMPERINGS)(
    'reports %s at its first sequence',
    async (_change, tamper, sequence, reason) => {
      expect(await verifyChain(tamper(chain))).toMatchObject({
        valid: false,
        first_invalid_sequence: sequence,
        reason,
      });
    },
  );

  it.each<[string, Tamper]>([
    ['an untouched chain', (c) => c],
    ...TAMPERINGS.map(([change, tamper]): [string, Tamper] => [change, tamper]),
  ])('gives the sequential verdict for %s however the walk is sliced', async (_change, tamper) => {
    const entries = tamper(chain);
    const sequential = await verifyChain(entries);
    let ways = 0;
    for (const slices of cuts(entries)) {
      const walk = walkInSlices(slices, [2]);
      expect(walk.verdict()).toEqual(sequential);
      expect(walk.hashAt(2)).toBe(entries.find((entry) => entry.sequence === 2)?.hash);
      ways += 1;
    }
    expect(ways).toBeGreaterThan(20);
  });

  it('verifies a segment that starts after a trusted head, and records asked-for hashes', () => {
    const verification = new ChainVerification({ sequence: 2, previousHash: chain[0].hash }, [2]);
    chain.slice(1).forEach((entry) => verification.add(entry));
    expect(verification.verdict()).toEqual({ valid: true, length: 3, head_hash: chain[2].hash });
    expect(verification.hashAt(2)).toBe(chain[1].hash);
    expect(verification.hashAt(3)).toBeUndefined();
  });

  it('names the line and the field of an export line that is not an entry', () => {
    const entry = {
      sequence: 1,
      timestamp: 't',
      type: 'update',
      module: 'm',
      payload: {},
      signature: 's',
      previous_hash: 'p',
      hash: 'h',
    };
    const line = (changes: object) => JSON.stringify({ ...entry, ...changes });
    expect(parseExportLine(line({}), 1)).toMatchObject({ sequence: 1, canonicalPayload: '{}' });
    expect(() => parseExportLine(line({ sequence: 0 }), 7)).toThrow(
      new ExportLineError(7, '"sequence" must be a positive integer'),
    );
    expect(() => parseExportLine(line({ payload: [] }), 3)).toThrow(
      'line 3: "payload" must be a JSON object',
    );
    expect(() => parseExportLine(line({ type: 'other' }), 4)).toThrow('line 4: "type" must be');
    expect(() => parseExportLine('[1]', 2)).toThrow('line 2: not a JSON object');
  });
});
