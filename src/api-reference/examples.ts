import type { SignedKind } from '../security/signed-request.js';

// The first two entries of the independent test vectors (../shared/vectors, made with Python):
// real signatures by the vectors' key over the RFC 8785 form of each payload.

export const SIGNED_BODY_EXAMPLES: Record<SignedKind, object> = {
  update: {
    payload: {
      module: 'module-a',
      nonce: '3f9a1c2e4b5d6f708192a3b4c5d6e7f8',
      timestamp: '2026-11-26T10:00:00.000Z',
      data: { temperature: 21.5, unit: 'C', reading: 42, tags: ['lab', 'b2'] },
    },
    signature:
      'QSLgeU2ZkfxG0hvSwCKdux+tdAoeLmEyGFm9XXBLBKlzSEmjlUmGlmi9Y0UIN+HyQiQrvmOhBWrOuvRtjOwiQ1epa6gBQenI17vsBKjx7T4agtNvaNJSvzEor1E171zi94V5wV3mUhErVKGxZrYgC98VVswWXWjlrp4fhNJImmmST3BtUmkMjX35n3BxoVAWKaJfGyrlrX4y0HBVzE87IrHp+n7lvDpesFVYdRqu6VXsxFNu2m42s8U08qOCcTWys94kyRGlgvJH+UhaGwxG/iZ7Qhjw9XVtLHY9/2vCG/qrqU4Yv/43xIvRIUrl5KP5il6apVN+SNKebHwJSzr7jw==',
  },
  heartbeat: {
    payload: {
      module: 'module-a',
      nonce: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      timestamp: '2026-11-26T10:00:01.000Z',
      status: 'alive',
      node: 'node-001',
    },
    signature:
      'HtzE4aZ7JqKYuoL7CVKOfNSO9A5dlsQ4Eoeuw53DWj3NwYWHBQ+AojHGe1GDuvBvvJYsjJm7++jZ/IpQ8xD1TVG3FTGsMSLpMbmR0qhQ+UtFl15niMoWHjRZJpeviqFIJFRVveCKbuD8+psmK6XroUHuaF5AqbzGrni8UOqiUTNZYNsZZmSqqrqwZrZTAiBQX0m5Y2nLPwA6kzwbaE5UTXCa1oxcSf+UfjLxMz5BKyMki9OeJsRO1rAwGt3cn2pXkq6rxZn6YXHGnY6zW15gTr42X6eiSUhoLQvsN7NuK0eMVg9oC1Y8kUkqRs4sLgFRff/yHBVuzKpW16h0ysiuoA==',
  },
};

/** What the bridge answered when those two were the first entries of its chain. */
export const ACCEPTED_EXAMPLES: Record<SignedKind, object> = {
  update: {
    status: 'accepted',
    sequence: 1,
    hash: '2ef3e2907a167ebabdbc1e5991dcdf9f3e6bba43acd3c4b40fcd73b0d0599471',
    previous_hash: '0000000000000000000000000000000000000000000000000000000000000000',
    received_at: '2026-11-26T10:00:00.250Z',
  },
  heartbeat: {
    status: 'accepted',
    sequence: 2,
    hash: '2ded16ac51a0b34336c5b5edaf6dae4e38e1e3f5e70c9c4f5406ef213a9be061',
    previous_hash: '2ef3e2907a167ebabdbc1e5991dcdf9f3e6bba43acd3c4b40fcd73b0d0599471',
    received_at: '2026-11-26T10:00:01.250Z',
  },
};
