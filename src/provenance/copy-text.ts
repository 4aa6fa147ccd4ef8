/**
 * PostgreSQL's `COPY ... TO STDOUT` text format, read straight from the bytes: one row per line,
 * fields separated by tabs, and inside a field a backslash starts an escape (`\\`, `\t`, `\n`,
 * `\r`, `\b`, `\f`, `\v`, and `\N` for NULL); COPY TO never writes octal or hex escapes.
 */

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

const ESCAPED: Record<number, number> = {
  [BACKSLASH]: BACKSLASH,
  0x62 /* b */: 0x08,
  0x66 /* f */: 0x0c,
  0x6e /* n */: NEWLINE,
  0x72 /* r */: 0x0d,
  0x74 /* t */: TAB,
  0x76 /* v */: 0x0b,
};

/**
 * A row as offsets into `bytes`: field `i` is `bytes[starts[i], ends[i])`, still escaped.
 * `escaped` says whether any field holds a backslash (and so must be decoded, not read as is).
 * The object is reused for every row: read it before the next one.
 */
export interface CopyRow {
  bytes: Buffer;
  starts: number[];
  ends: number[];
  escaped: boolean;
}

/** Splits a COPY text stream into rows of exactly `fieldCount` fields, across chunk borders. */
export class CopyRowReader {
  private tail: Buffer | undefined;
  private readonly row: CopyRow;

  constructor(
    private readonly fieldCount: number,
    private readonly onRow: (row: CopyRow) => void,
  ) {
    this.row = {
      bytes: Buffer.alloc(0),
      starts: new Array<number>(fieldCount).fill(0),
      ends: new Array<number>(fieldCount).fill(0),
      escaped: false,
    };
  }

  push(chunk: Buffer): void {
    const bytes = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    const row = this.row;
    row.bytes = bytes;
    // Found once per chunk and moved forward only when passed, so a chunk is scanned once.
    let nextBackslash = bytes.indexOf(BACKSLASH);
    let start = 0;
    let end: number;
    while ((end = bytes.indexOf(NEWLINE, start)) !== -1) {
      let fieldStart = start;
      for (let field = 0; field < this.fieldCount - 1; field += 1) {
        const tab = bytes.indexOf(TAB, fieldStart);
        if (tab === -1 || tab > end) {
          throw new Error(`COPY row with fewer than ${this.fieldCount} fields`);
        }
        row.starts[field] = fieldStart;
        row.ends[field] = tab;
        fieldStart = tab + 1;
      }
      row.starts[this.fieldCount - 1] = fieldStart;
      row.ends[this.fieldCount - 1] = end;
      if (nextBackslash !== -1 && nextBackslash < start)
        nextBackslash = bytes.indexOf(BACKSLASH, start);
      row.escaped = nextBackslash !== -1 && nextBackslash < end;
      this.onRow(row);
      start = end + 1;
    }
    this.tail = start < bytes.length ? bytes.subarray(start) : undefined;
  }

  /** Throws if the stream ended inside a row. */
  end(): void {
    if (this.tail) throw new Error('COPY stream ended inside a row');
  }
}

/** Field `index` of `row` as text, escapes resolved; `null` for `\N`. */
export function decodeCopyField(row: CopyRow, index: number): string | null {
  const { bytes } = row;
  const start = row.starts[index];
  const end = row.ends[index];
  if (end - start === 2 && bytes[start] === BACKSLASH && bytes[start + 1] === 0x4e /* N */) {
    return null;
  }
  if (!row.escaped) return bytes.toString('utf8', start, end);
  const decoded = Buffer.allocUnsafe(end - start);
  let length = 0;
  for (let at = start; at < end; at += 1) {
    let byte = bytes[at];
    if (byte === BACKSLASH && at + 1 < end) {
      at += 1;
      byte = ESCAPED[bytes[at]] ?? bytes[at];
    }
    decoded[length++] = byte;
  }
  return decoded.toString('utf8', 0, length);
}
