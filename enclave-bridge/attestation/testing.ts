/** The real test vectors (see vectors/README.md), loaded for tests and the CLI tests. */
import { readFileSync } from 'node:fs';
import { parseCollateral } from './collateral.ts';
import type { QuoteCollateral } from './types.ts';

export interface QuoteVector {
  readonly dir: string;
  readonly quote: Uint8Array;
  readonly collateral: QuoteCollateral;
  /** A time inside the collateral's validity window. */
  readonly now: Date;
}

export const VECTORS_DIR = new URL('./vectors/', import.meta.url);

function load(name: string, now: string): QuoteVector {
  const dir = new URL(`${name}/`, VECTORS_DIR);
  const hex = readFileSync(new URL('quote.hex', dir), 'utf8').trim();
  return {
    dir: dir.pathname,
    quote: new Uint8Array(Buffer.from(hex, 'hex')),
    collateral: parseCollateral(readFileSync(new URL('collateral.json', dir), 'utf8')),
    now: new Date(now),
  };
}

export const tdxVector = (): QuoteVector => load('tdx-tee-solver-alice', '2025-09-15T00:00:00Z');
export const sgxVector = (): QuoteVector => load('sgx-automata-v3', '2025-08-15T05:45:00Z');

/** Byte offsets in a quote (Intel DCAP quote layout: 48-byte header, then the report body). */
export const OFFSETS = {
  sgx: { attributes: 96, mrEnclave: 112, mrSigner: 176, reportData: 368, signatureLength: 432 },
  tdx: { tdAttributes: 168, mrTd: 184, reportData: 568, signatureLength: 632 },
} as const;

/** A copy of `bytes` with bit `bit` of byte `offset` flipped. */
export function flipBit(bytes: Uint8Array, offset: number, bit = 0): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[offset] = (out[offset] as number) ^ (1 << bit);
  return out;
}
