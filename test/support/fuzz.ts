import fc from 'fast-check';

/** The seed of a fast-check run: `FAST_CHECK_SEED` replays a printed one, otherwise a new one each run. */
export function fuzzSeed(): number {
  return Number(process.env.FAST_CHECK_SEED ?? Date.now() % 2 ** 31);
}

/** Any UTF-16 code unit, lone surrogates included: what a JSON string may carry after `\u` escapes. */
export const anyCodeUnit = fc
  .integer({ min: 0, max: 0xffff })
  .map((unit) => String.fromCharCode(unit));
