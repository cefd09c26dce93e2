import { createMPT } from '@ethereumjs/mpt';
import { randomBytes } from 'node:crypto';
import { hexlify, keccak256 } from 'ethers';
import { describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.ts';
import { keccak, keccakHex, proveReceipts, receiptKey, verifyReceiptProof } from './eth.ts';

/** Receipt-sized values, some short enough to be embedded in their parent node. */
function values(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => randomBytes(i % 5 === 0 ? 3 : 40 + (i % 300)));
}

describe('keccak-256 (js-sha3)', () => {
  it('equals ethers’ keccak256 on empty, short and multi-block inputs', () => {
    for (const n of [0, 1, 135, 136, 137, 600, 5000]) {
      const data = randomBytes(n);
      expect(keccakHex(data)).toBe(keccak256(data));
      expect(hexlify(keccak(data))).toBe(keccak256(data));
    }
  });
});

describe('receipts trie', () => {
  for (const n of [1, 2, 3, 16, 17, 128, 129, 300, 1000]) {
    it(`${n} receipts: the same root as @ethereumjs/mpt, and every proof verifies there`, async () => {
      const vs = values(n);
      const reference = await createMPT();
      for (let i = 0; i < n; i++) await reference.put(receiptKey(i), vs[i]!);
      const wanted = [...new Set([0, 1, n - 1, Math.floor(n / 2), 127, 128].filter((i) => i < n))];
      const { root, proofs } = proveReceipts(vs, wanted);
      expect(root).toBe(hexlify(reference.root()));
      for (const i of wanted) {
        const value = await verifyReceiptProof(root, i, proofs.get(i)!);
        expect(hexlify(value)).toBe(hexlify(vs[i]!));
      }
    });
  }

  it('a proof for one index does not prove another, and a wrong root is refused', async () => {
    const vs = values(50);
    const { root, proofs } = proveReceipts(vs, [7]);
    const other = await verifyReceiptProof(root, 8, proofs.get(7)!).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(CustosError);
    const wrongRoot = await verifyReceiptProof(`0x${'00'.repeat(32)}`, 7, proofs.get(7)!).catch(
      (e: unknown) => e,
    );
    expect((wrongRoot as CustosError).message).toContain('receiptsRoot');
  });
});
