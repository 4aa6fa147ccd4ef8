import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { anyCodeUnit, fuzzSeed } from '../../test/support/fuzz.js';
import {
  canonicalJson,
  findJsonTextProblem,
  findUnstorableValue,
  numberFormNote,
  type JsonValue,
} from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units and keeps non-ASCII text unescaped', () => {
    expect(canonicalJson({ b: 1, a: 'café ✓', A: [true, null] })).toBe(
      '{"A":[true,null],"a":"café ✓","b":1}',
    );
  });

  it('serializes numbers the ECMAScript way', () => {
    expect(canonicalJson([1.0, 1e21, 0.000001, -0, 21.5])).toBe('[1,1e+21,0.000001,0,21.5]');
  });

  it('omits undefined members and refuses what has no JSON form, as canonicalize does', () => {
    const withOptional = { a: 1, node: undefined } as unknown as JsonValue;
    expect(canonicalJson(withOptional)).toBe('{"a":1}');
    expect(canonicalJson([undefined] as unknown as JsonValue)).toBe('[null]');
    for (const bad of [Number.NaN, Infinity, '\ud800', { '\udc00': 1 }])
      expect(() => canonicalJson(bad as JsonValue)).toThrow(TypeError);
  });

  it('equals the canonicalize package byte for byte on generated JSON values', () => {
    const seed = fuzzSeed();
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: anyCodeUnit }),
    );
    const number = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(-0, 1e21, 1e-7, 21.0, 2 ** 53 + 1, 5e-324, 1.7976931348623157e308),
    );
    const leaf = fc.oneof(text, number, fc.boolean(), fc.constant(null), fc.constant(undefined));
    const { value } = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('value'), { maxLength: 5 }),
        fc.dictionary(text, tie('value'), { maxKeys: 5 }),
      ),
    }));
    const outcome = (form: () => string | undefined) => {
      try {
        return form();
      } catch {
        return 'throws';
      }
    };
    fc.assert(
      fc.property(value, (generated) => {
        const expected = outcome(() => canonicalize(generated));
        // canonicalize answers undefined for a lone undefined; canonicalJson refuses it.
        if (expected === undefined) return;
        expect(outcome(() => canonicalJson(generated as JsonValue))).toBe(expected);
      }),
      { numRuns: 2_000, seed },
    );
  });
});

describe('findJsonTextProblem', () => {
  const bounds = { maxDepth: 8, maxValues: 100 };
  const problemOf = (text: string, within = bounds) =>
    findJsonTextProblem(Buffer.from(text, 'utf8'), within);
  /** Values as the walk of the parsed text counts them: every object, array and leaf once. */
  const countValues = (value: unknown): number =>
    value !== null && typeof value === 'object'
      ? 1 + Object.values(value).reduce((sum: number, child) => sum + countValues(child), 0)
      : 1;

  it.each([
    '[{}]',
    '{"a":[]}',
    ' [ 1 , [ ] , { } , "a,b:[c" ] ',
    '{"a":[1,{"b":"x\\"","c":[[],[null]]}],"d":"\\\\"}',
    '{"k\\u0022,":[true,false,"]"]}',
  ])('counts the values of %s exactly', (text) => {
    const values = countValues(JSON.parse(text));
    expect(problemOf(text, { maxDepth: 8, maxValues: values })).toBeUndefined();
    expect(problemOf(text, { maxDepth: 8, maxValues: values - 1 })).toBe(
      `more than ${values - 1} JSON values`,
    );
  });

  it('refuses nesting deeper than the limit, however deep, before it is parsed', () => {
    expect(problemOf('['.repeat(8) + ']'.repeat(8))).toBeUndefined();
    expect(problemOf('['.repeat(9) + ']'.repeat(9))).toBe('nesting deeper than 8 levels');
    expect(problemOf('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))).toBe(
      'nesting deeper than 8 levels',
    );
  });

  it('is not misled by brackets, commas and colons inside strings', () => {
    expect(problemOf(JSON.stringify({ a: '[[[[[[[[[[,,,,:::]]]', b: '\\"[' }))).toBeUndefined();
  });

  it('counts a wide object member by member', () => {
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`k${index}`, 0]));
    expect(problemOf(JSON.stringify(wide))).toBe('more than 100 JSON values');
  });
});

describe('findUnstorableValue', () => {
  it('accepts ordinary payloads, `__proto__` and `constructor` keys among them', () => {
    expect(findUnstorableValue({ a: [1, { b: 'x' }] })).toBeUndefined();
    expect(findUnstorableValue(JSON.parse('{"__proto__":{"constructor":1}}'))).toBeUndefined();
  });

  it('rejects numbers that JSON.parse turned into Infinity', () => {
    expect(findUnstorableValue(JSON.parse('{"a":[1e400]}'))).toBe('numbers must be finite');
  });

  it('walks deep values without recursion', () => {
    const deep = JSON.parse('{"a":'.repeat(100_000) + '"\\u0000"' + '}'.repeat(100_000));
    expect(findUnstorableValue(deep)).toMatch(/U\+0000/);
  });

  it.each([
    ['U+0000 in a value', { a: 'x\u0000' }],
    ['a lone surrogate in a value', { a: ['\ud800'] }],
    ['U+0000 in a key', { 'k\u0000': 1 }],
    ['a lone surrogate in a key', { '\udc00': 1 }],
  ])('rejects %s (PostgreSQL cannot store it)', (_name, value) => {
    expect(findUnstorableValue(value)).toMatch(/must not hold U\+0000 or a lone surrogate/);
  });

  it('accepts a surrogate pair', () => {
    expect(findUnstorableValue({ '😀': '😀' })).toBeUndefined();
  });
});

describe('numberFormNote', () => {
  it.each([
    ['{"t":21.0}', '21.0', '21'],
    ['{"t":-0.0}', '-0.0', '0'],
    ['{"t":1e+16}', '1e+16', '10000000000000000'],
    ['{"t":9007199254740993}', '9007199254740993', '9007199254740992'],
  ])('names the first number of %s that RFC 8785 writes otherwise', (text, written, canonical) => {
    expect(numberFormNote(text)).toContain(
      `such as ${written} whose RFC 8785 form is ${canonical}:`,
    );
  });

  it('is empty when every number is already canonical, and ignores numbers inside strings', () => {
    expect(numberFormNote('{"a":21,"b":1e-7,"c":"21.0","d":"\\"1e-07","e":[0.5,-3]}')).toBe('');
  });
});
