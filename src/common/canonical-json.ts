import canonicalize from 'canonicalize';

/** A JSON value as it arrives from `JSON.parse`. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * RFC 8785 (JCS) canonical form of a JSON value. Python's `json.dumps(..., sort_keys=True)` differs
 * for numbers such as 21.0 and 1e-07; docs/python-client.md has an exact Python canonicalizer.
 */
export function canonicalJson(value: JsonValue): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/**
 * Checks that a parsed JSON value can be canonicalized the same way by every client: finite
 * numbers only (`1e400` parses to Infinity) and a bounded nesting depth (deep nesting would
 * exhaust the stack of any recursive canonicalizer). Returns a description of the first problem.
 */
export function findCanonicalizationProblem(value: unknown, maxDepth: number): string | undefined {
  const pending: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    if (typeof node === 'number' && !Number.isFinite(node)) return 'numbers must be finite';
    if (node === null || typeof node !== 'object') continue;
    if (depth >= maxDepth) return `nesting deeper than ${maxDepth} levels`;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      pending.push({ node: child, depth: depth + 1 });
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
