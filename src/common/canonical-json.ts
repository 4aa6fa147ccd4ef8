/// <reference lib="es2024.string" />

/** A JSON value as it arrives from `JSON.parse`. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * RFC 8785 (JCS) canonical form of a JSON value. Python's `json.dumps(..., sort_keys=True)` differs
 * for numbers such as 21.0 and 1e-07; docs/python-client.md has an exact Python canonicalizer.
 */
export function canonicalJson(value: JsonValue): string {
  // The depth is bounded before this runs on a request (`findJsonTextProblem`), so recursion is
  // safe. The spec holds this to the `canonicalize` package byte for byte.
  if (typeof value === 'string') return stringText(value);
  if (typeof value === 'number') {
    // ECMAScript's Number-to-String is RFC 8785 §3.2.2.3's number form.
    if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) text += ',';
      // As JSON.stringify: a hole or undefined in an array is null.
      text += value[index] === undefined ? 'null' : canonicalJson(value[index]);
    }
    return text + ']';
  }
  if (typeof value !== 'object') throw new TypeError(`a ${typeof value} has no JSON form`);
  let text = '{';
  // Array.prototype.sort compares UTF-16 code units, the order RFC 8785 §3.2.3 prescribes.
  for (const key of Object.keys(value).sort()) {
    const member = value[key];
    // As JSON.stringify: a member left undefined (an optional field not given) is omitted.
    if (member === undefined) continue;
    if (text.length > 1) text += ',';
    text += stringText(key) + ':' + canonicalJson(member);
  }
  return text + '}';
}

/** RFC 8785 §3.2.2.2: JSON.stringify's escapes; a lone surrogate has no UTF-8 form. */
function stringText(text: string): string {
  if (!text.isWellFormed()) throw new TypeError('a string holds a lone surrogate');
  return JSON.stringify(text);
}

/** How far a JSON text may reach before it is parsed, canonicalized or stored. */
export interface JsonBounds {
  /** Nesting levels of objects and arrays. */
  maxDepth: number;
  /** JSON values counted together, each object, array, string, number, boolean and null once. */
  maxValues: number;
}

const enum Byte {
  Tab = 0x09,
  LineFeed = 0x0a,
  CarriageReturn = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Comma = 0x2c,
  Colon = 0x3a,
  OpenBracket = 0x5b,
  Backslash = 0x5c,
  CloseBracket = 0x5d,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

/**
 * Measures UTF-8 JSON text without parsing it, in one pass that stops at the first bound crossed,
 * so a text too deep or too wide costs neither `JSON.parse` nor a walk of what it would build.
 * Exact for valid JSON (a repeated key counts each time); invalid text may be miscounted, but
 * `JSON.parse` refuses it then anyway. Returns the first bound crossed.
 */
export function findJsonTextProblem(
  text: Uint8Array,
  { maxDepth, maxValues }: JsonBounds,
): string | undefined {
  const tooMany = `more than ${maxValues} JSON values`;
  const isArray = new Uint8Array(maxDepth);
  let depth = 0;
  let values = 1;
  let afterOpenBracket = false;
  for (let index = 0; index < text.length; index += 1) {
    const byte = text[index];
    const isWhitespace =
      byte === Byte.Space ||
      byte === Byte.LineFeed ||
      byte === Byte.CarriageReturn ||
      byte === Byte.Tab;
    if (isWhitespace) continue;
    // An array's first element follows `[`; each further one follows a comma at its level.
    if (afterOpenBracket && byte !== Byte.CloseBracket && ++values > maxValues) return tooMany;
    afterOpenBracket = false;
    switch (byte) {
      case Byte.Quote:
        index = closingQuote(text, index);
        if (index < 0) return undefined; // unterminated: JSON.parse refuses it
        break;
      case Byte.OpenBrace:
      case Byte.OpenBracket:
        if (depth === maxDepth) return `nesting deeper than ${maxDepth} levels`;
        afterOpenBracket = byte === Byte.OpenBracket;
        isArray[depth++] = afterOpenBracket ? 1 : 0;
        break;
      case Byte.CloseBrace:
      case Byte.CloseBracket:
        if (depth > 0) depth -= 1;
        break;
      case Byte.Colon: // each member of an object
        if (++values > maxValues) return tooMany;
        break;
      case Byte.Comma:
        if (depth > 0 && isArray[depth - 1] === 1 && ++values > maxValues) return tooMany;
        break;
    }
  }
  return undefined;
}

/** The index of the quote that closes the string opened at `open`: one not escaped by a backslash. */
function closingQuote(text: Uint8Array, open: number): number {
  let index = open;
  for (;;) {
    index = text.indexOf(Byte.Quote, index + 1);
    let backslashes = 0;
    while (index > 0 && text[index - 1 - backslashes] === Byte.Backslash) backslashes += 1;
    if (backslashes % 2 === 0) return index;
  }
}

/** A string the database can store: no U+0000 and no lone surrogate (text and jsonb refuse both). */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

// One walk runs at a time (it is synchronous), so its stack is kept between calls.
const pending: unknown[] = [];

/**
 * Checks, without recursion, that a parsed JSON value can be canonicalized the same way by every
 * client and stored by PostgreSQL: finite numbers only (`1e400` parses to Infinity), and keys and
 * strings that `isStorableText`. Returns a description of the first problem. Its size is bounded
 * before (`findJsonTextProblem`); the walk itself needs no bound, as it keeps its own stack.
 */
export function findUnstorableValue(value: unknown): string | undefined {
  try {
    return walk(value);
  } finally {
    pending.length = 0;
  }
}

function walk(value: unknown): string | undefined {
  pending.push(value);
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) return 'numbers must be finite';
    } else if (typeof node === 'string') {
      if (!isStorableText(node)) return 'strings must not hold U+0000 or a lone surrogate';
    } else if (Array.isArray(node)) {
      for (const child of node) pending.push(child);
    } else if (node !== null && typeof node === 'object') {
      // `for…in` over an object from JSON.parse visits its own keys (`__proto__` among them, as
      // a plain key) and, unlike Object.keys, allocates no array of them.
      for (const key in node) {
        if (!isStorableText(key)) return 'keys must not hold U+0000 or a lone surrogate';
        pending.push((node as Record<string, unknown>)[key]);
      }
    }
  }
  return undefined;
}

/** A JSON string token (skipped) or a number token, in received JSON text. */
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const MAX_QUOTED_NUMBER = 32;

/**
 * For an `invalid_signature` answer: names a number the client wrote differently from its RFC 8785
 * form (`21.0`, `1e-07`, `-0.0`, integers above 2^53, as Python's `json.dumps` writes them), the
 * usual reason a client's own serialization signs other bytes than the service verifies.
 */
export function numberFormNote(receivedJson: string): string {
  for (const [token] of receivedJson.matchAll(STRING_OR_NUMBER)) {
    if (token.startsWith('"')) continue;
    const canonical = canonicalJson(Number(token));
    if (canonical !== token) {
      const quoted =
        token.length > MAX_QUOTED_NUMBER ? `${token.slice(0, MAX_QUOTED_NUMBER)}…` : token;
      return `; note: the payload has numbers such as ${quoted} whose RFC 8785 form is ${canonical}: sign the RFC 8785 text (docs/wire-format.md)`;
    }
  }
  return '';
}
