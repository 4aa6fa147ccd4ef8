import { canonicalJson } from '../common/canonical-json.js';
import { canonicalEvent, chainHash, GENESIS_HASH } from './chain-hash.js';
import { loadVectors } from '../../test/support/vectors.js';

describe('chain hashing against the shared Python vectors', () => {
  const vectors = loadVectors();

  it('starts from the same genesis hash', () => {
    expect(GENESIS_HASH).toBe(vectors.genesis_previous_hash);
  });

  it.each(vectors.chain.map((entry) => [entry.sequence, entry] as const))(
    'entry %i: canonical payload, canonical event and hash match byte for byte',
    (_sequence, entry) => {
      const canonicalPayload = canonicalJson(entry.payload);
      expect(canonicalPayload).toBe(entry.canonical_payload);
      const content = {
        type: entry.type,
        module: entry.module,
        canonicalPayload,
        signature: entry.signature,
      };
      expect(canonicalEvent(content)).toBe(entry.canonical_event);
      expect(canonicalEvent(content)).toBe(
        canonicalJson({
          type: entry.type,
          module: entry.module,
          payload: entry.payload,
          signature: entry.signature,
        }),
      );
      expect(chainHash(entry.previous_hash, content, entry.timestamp)).toBe(entry.hash);
    },
  );

  it('links each entry to the previous hash', () => {
    vectors.chain.slice(1).forEach((entry, index) => {
      expect(entry.previous_hash).toBe(vectors.chain[index].hash);
    });
  });
});
