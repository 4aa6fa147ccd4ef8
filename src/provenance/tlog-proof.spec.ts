import { generateKeyPairSync } from 'node:crypto';
import { signCheckpoint } from './checkpoint-note.js';
import { inclusionProof, leafHash, MemoryMerkleTree, treeRoot } from './merkle.js';
import { parseTilePath } from './tile-path.js';
import { formatReceipt, verifyReceipt } from './tlog-proof.js';

describe('receipts (C2SP tlog-proof)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const entryHashes = Array.from({ length: 13 }, (_, i) => Buffer.alloc(32, i + 1).toString('hex'));
  const tree = new MemoryMerkleTree();
  entryHashes.forEach((hash) => tree.append(leafHash(Buffer.from(hash, 'hex'))));

  async function receiptFor(sequence: number, key = privateKey, size = 13): Promise<string> {
    const root = await treeRoot(size, tree);
    const note = signCheckpoint(
      {
        origin: 'bridge.test/receipts',
        length: size,
        rootHash: root.toString('hex'),
        headHash: entryHashes[size - 1],
        timestamp: '2026-12-02T10:00:00.000Z',
      },
      key,
    );
    const proof = await inclusionProof(sequence - 1, size, tree);
    return formatReceipt({ index: sequence - 1, proof, checkpointNote: note });
  }

  it('verifies for its entry and no other', async () => {
    const receipt = await receiptFor(6);
    expect(verifyReceipt(receipt, entryHashes[5], publicKey)).toMatchObject({
      sequence: 6,
      checkpoint: { length: 13 },
    });
    for (const [i, other] of entryHashes.entries()) {
      if (i !== 5) expect(() => verifyReceipt(receipt, other, publicKey)).toThrow();
    }
  });

  it('refuses a checkpoint signed by another key', async () => {
    const other = generateKeyPairSync('ed25519');
    const receipt = await receiptFor(6, other.privateKey);
    expect(() => verifyReceipt(receipt, entryHashes[5], publicKey)).toThrow(
      'no signature of this key',
    );
  });

  it('refuses any change to any character of the receipt', async () => {
    const receipt = await receiptFor(6);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (let at = 0; at < receipt.length; at += 1) {
      const char = receipt[at];
      const swap = alphabet.includes(char) ? alphabet[(alphabet.indexOf(char) + 1) % 64] : 'x';
      const forged = receipt.slice(0, at) + swap + receipt.slice(at + 1);
      expect({
        at,
        refused: refuses(() => verifyReceipt(forged, entryHashes[5], publicKey)),
      }).toEqual({ at, refused: true });
    }
  });

  it('refuses a truncated or extended path and another index', async () => {
    const receipt = await receiptFor(6);
    const [head, note] = receipt.split('\n\n');
    const lines = head.split('\n');
    const extended = `${[...lines, lines[2]].join('\n')}\n\n${note}`;
    const truncated = `${lines.slice(0, -1).join('\n')}\n\n${note}`;
    const moved = receipt.replace('index 5\n', 'index 4\n');
    for (const forged of [extended, truncated, moved]) {
      expect(() => verifyReceipt(forged, entryHashes[5], publicKey)).toThrow();
    }
  });
});

function refuses(check: () => unknown): boolean {
  try {
    check();
    return false;
  } catch {
    return true;
  }
}

describe('tile paths (C2SP tlog-tiles)', () => {
  it.each([
    [['0', '000'], { level: 0, index: 0, width: 256 }],
    [['1', 'x001', 'x234', '067'], { level: 1, index: 1234067, width: 256 }],
    [['0', '005.p', '17'], { level: 0, index: 5, width: 17 }],
  ])('parses %j', (segments, tile) => {
    expect(parseTilePath(segments)).toEqual(tile);
  });

  it.each([
    [['0', '1']],
    [['0', '001', '002']],
    [['0', '000.p', '256']],
    [['0', '000.p', '0']],
    [['x', '000']],
    [['entries', '000']],
    [['0']],
  ])('refuses %j', (segments) => {
    expect(() => parseTilePath(segments)).toThrow('not a tile path');
  });
});
