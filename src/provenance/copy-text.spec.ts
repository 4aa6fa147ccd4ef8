import { CopyRowReader, decodeCopyField } from './copy-text.js';

/** Reads `text` fed in pieces cut at `cuts`, decoding every field of every row. */
function readRows(text: string, fieldCount: number, cuts: number[] = []): (string | null)[][] {
  const rows: (string | null)[][] = [];
  const reader = new CopyRowReader(fieldCount, (row) =>
    rows.push(Array.from({ length: fieldCount }, (_, index) => decodeCopyField(row, index))),
  );
  const bytes = Buffer.from(text);
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.push(bytes.subarray(start, cut));
    start = cut;
  }
  reader.end();
  return rows;
}

describe('COPY text rows', () => {
  const text = 'a\\\\b\tcafé ✓\t\\N\n\\t\\n\\r\\b\\f\\v\t\t"q"\n';
  const expected = [
    ['a\\b', 'café ✓', null],
    ['\t\n\r\b\f\v', '', '"q"'],
  ];

  it('splits fields on tabs and resolves every escape COPY TO writes, \\N as null', () => {
    expect(readRows(text, 3)).toEqual(expected);
  });

  it('gives the same rows however the stream is cut into chunks, even inside a character', () => {
    const length = Buffer.byteLength(text);
    for (let first = 0; first <= length; first += 1) {
      for (let second = first; second <= length; second += 3) {
        expect(readRows(text, 3, [first, second])).toEqual(expected);
      }
    }
  });

  it('refuses a row with too few fields and a stream that ends inside a row', () => {
    expect(() => readRows('a\tb\n', 3)).toThrow('COPY row with fewer than 3 fields');
    expect(() => readRows('a\tb\tc', 3)).toThrow('COPY stream ended inside a row');
  });
});
