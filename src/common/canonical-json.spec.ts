import { canonicalJson, findCanonicalizationProblem, numberFormNote } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units and keeps non-ASCII text unescaped', () => {
    expect(canonicalJson({ b: 1, a: 'café ✓', A: [true, null] })).toBe(
      '{"A":[true,null],"a":"café ✓","b":1}',
    );
  });

  it('serializes numbers the ECMAScript way', () => {
    expect(canonicalJson([1.0, 1e21, 0.000001, -0, 21.5])).toBe('[1,1e+21,0.000001,0,21.5]');
  });
});

describe('findCanonicalizationProblem', () => {
  it('accepts ordinary payloads', () => {
    expect(findCanonicalizationProblem({ a: [1, { b: 'x' }] }, 8)).toBeUndefined();
  });

  it('rejects numbers that JSON.parse turned into Infinity', () => {
    expect(findCanonicalizationProblem(JSON.parse('{"a":[1e400]}'), 8)).toBe(
      'numbers must be finite',
    );
  });

  it('rejects nesting deeper than the limit', () => {
    const deep = JSON.parse('['.repeat(10) + ']'.repeat(10));
    expect(findCanonicalizationProblem(deep, 5)).toBe('nesting deeper than 5 levels');
    expect(findCanonicalizationProblem(deep, 10)).toBeUndefined();
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
