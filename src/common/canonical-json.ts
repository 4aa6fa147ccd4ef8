import canonicalize from 'canonicalize';

/** A JSON value as it arrives from `JSON.parse`. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * RFC 8785 (JCS) canonical form of a JSON value. Python clients produce the same text with
 * `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` for ordinary values.
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
