import { MerkleProofError } from './merkle.js';

/** A tile named by a C2SP tlog-tiles path: `<L>/<N>[.p/<W>]`. */
export interface TilePath {
  level: number;
  index: number;
  /** 256 for a full tile, 1–255 for a partial one. */
  width: number;
}

const LEVEL = /^(0|[1-9][0-9]?)$/;
const WIDTH = /^([1-9][0-9]{0,2})$/;

/**
 * Parses the segments after `tile/`. N is written in groups of three digits, every group but the
 * last prefixed with `x` (`x001/x234/067` is 1234067); a partial tile adds `.p/<W>`.
 */
export function parseTilePath(segments: readonly string[]): TilePath {
  const bad = () => new MerkleProofError(`not a tile path: ${segments.join('/')}`);
  const [levelText, ...rest] = segments;
  if (!LEVEL.test(levelText ?? '') || rest.length === 0) throw bad();
  let width = 256;
  let groups = rest;
  const partialAt = rest.findIndex((segment) => segment.endsWith('.p'));
  if (partialAt >= 0) {
    if (partialAt !== rest.length - 2 || !WIDTH.test(rest[rest.length - 1])) throw bad();
    width = Number(rest[rest.length - 1]);
    if (width >= 256) throw bad();
    groups = [...rest.slice(0, partialAt), rest[partialAt].slice(0, -2)];
  }
  let index = 0;
  for (const [i, group] of groups.entries()) {
    const digits = i < groups.length - 1 ? /^x([0-9]{3})$/.exec(group) : /^([0-9]{3})$/.exec(group);
    if (!digits) throw bad();
    index = index * 1000 + Number(digits[1]);
  }
  if (!Number.isSafeInteger(index)) throw bad();
  return { level: Number(levelText), index, width };
}
