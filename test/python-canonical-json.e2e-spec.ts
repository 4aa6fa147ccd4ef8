import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, type JsonValue } from '../src/common/canonical-json.js';

/** docs/python-client.md's client block, the module that defines `canonical_json`. */
const CLIENT = /```python\n([\s\S]*?)```/.exec(readFileSync('docs/python-client.md', 'utf8'))![1];

/** Reads the cases on stdin, answers the Python canonical text of each. */
const DRIVER = `
import json, struct, sys
from bridge_client import canonical_json
cases = json.load(sys.stdin)
print(json.dumps({
    "doubles": [canonical_json(struct.unpack(">d", bytes.fromhex(h))[0]) for h in cases["doubles"]],
    "integers": [canonical_json(int(text)) for text in cases["integers"]],
    "values": [canonical_json(value) for value in cases["values"]],
}))
`;

/** A seeded generator, so a failing case can be reproduced. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGE_DOUBLES = [
  0,
  -0,
  21,
  21.5,
  1e-7,
  -1e-7,
  1e-6,
  1e21,
  1e20,
  1e16,
  1e15,
  123e-20,
  0.1,
  0.2 + 0.1,
  5e-324,
  2.2250738585072014e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  1 / 3,
  100,
  999999999999999900000,
  4.35,
  0.000001234,
];

function hexOf(value: number): string {
  const buffer = Buffer.alloc(8);
  buffer.writeDoubleBE(value);
  return buffer.toString('hex');
}

function generateCases(random: () => number) {
  const doubles = [...EDGE_DOUBLES];
  const bits = Buffer.alloc(8);
  while (doubles.length < 4000) {
    for (let i = 0; i < 8; i++) bits[i] = Math.floor(random() * 256);
    const anyDouble = bits.readDoubleBE();
    if (Number.isFinite(anyDouble)) doubles.push(anyDouble);
    // Decimal-looking values around every exponent, as readings are.
    const decimal = Number(
      (random() * 10 ** Math.floor(random() * 50 - 25)).toPrecision(1 + Math.floor(random() * 17)),
    );
    doubles.push(random() < 0.5 ? -decimal : decimal);
  }
  const integers = ['9007199254740993', '-9007199254740995', '123456789012345678901234567890'];
  while (integers.length < 500) {
    integers.push(
      (
        BigInt(Math.floor(random() * 2 ** 53)) * BigInt(Math.floor(random() * 2 ** 20) + 1)
      ).toString(),
    );
  }
  const keyAlphabet = [
    'a',
    'b',
    'B',
    'é',
    '\u00e9',
    'z',
    '\ufb01',
    '😀',
    '\u{10000}',
    '\uffff',
    '\n',
    '"',
    '\\',
    '\u001f',
    '\u007f',
  ];
  const text = () =>
    Array.from(
      { length: Math.floor(random() * 5) },
      () => keyAlphabet[Math.floor(random() * keyAlphabet.length)],
    ).join('');
  const value = (depth: number): JsonValue => {
    const pick = random();
    if (depth > 3 || pick < 0.3) return doubles[Math.floor(random() * doubles.length)];
    if (pick < 0.45) return text();
    if (pick < 0.5) return [null, true, false][Math.floor(random() * 3)];
    if (pick < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    return Object.fromEntries(
      Array.from({ length: Math.floor(random() * 5) }, () => [text(), value(depth + 1)]),
    );
  };
  const values = Array.from({ length: 1000 }, () => value(0));
  return { doubles, integers, values };
}

describe("docs/python-client.md's canonical_json", () => {
  let workDir: string;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'python-jcs-'));
    writeFileSync(join(workDir, 'bridge_client.py'), CLIENT);
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it("writes the service's RFC 8785 text, byte for byte, for generated numbers and values", () => {
    const cases = generateCases(seededRandom(8785));
    const output = execFileSync('python3', ['-c', DRIVER], {
      cwd: workDir,
      input: JSON.stringify({ ...cases, doubles: cases.doubles.map(hexOf) }),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const python = JSON.parse(output) as Record<'doubles' | 'integers' | 'values', string[]>;
    expect(python.doubles).toEqual(cases.doubles.map((d) => canonicalJson(d)));
    expect(python.integers).toEqual(cases.integers.map((i) => canonicalJson(Number(i))));
    expect(python.values).toEqual(cases.values.map((v) => canonicalJson(v)));
    expect(python.doubles.length).toBeGreaterThan(4000);
  });
});
