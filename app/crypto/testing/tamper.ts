/**
 * The tamper corpus: attacks on a container, grouped by the classes that the age and Tink
 * streaming-AEAD test suites cover, each with the error tag Custos must answer with.
 * Used by the tests and by scripts/gen-format-vectors.ts (which stores the results as vectors).
 */
import type { ErrorTag } from '../../errors/index.ts';
import { HEADER_BYTES } from '../container.ts';

export interface TamperFixtures {
  /** 224 plaintext bytes in 64-byte chunks: three full chunks and a short final one. */
  readonly short: Uint8Array;
  /** 256 plaintext bytes in 64-byte chunks: four full chunks, the last one final. */
  readonly full: Uint8Array;
  /** Another container of the same 224 bytes, same key and dataset id (another stream header). */
  readonly other: Uint8Array;
  readonly chunkSize: number;
}

export interface TamperCase {
  readonly name: string;
  readonly attackClass:
    | 'header'
    | 'truncation'
    | 'extension'
    | 'reordering'
    | 'splicing'
    | 'bit flip'
    | 'not a container';
  readonly expect: ErrorTag;
  apply(f: TamperFixtures): Uint8Array;
}

const ABYTES = 17;
const piece = (f: TamperFixtures): number => f.chunkSize + ABYTES;
const chunkAt = (f: TamperFixtures, i: number): number => HEADER_BYTES + i * piece(f);
const chunk = (c: Uint8Array, f: TamperFixtures, i: number): Uint8Array =>
  c.subarray(chunkAt(f, i), Math.min(c.length, chunkAt(f, i + 1)));
const flip = (c: Uint8Array, at: number, bit = 0): Uint8Array => {
  const copy = new Uint8Array(c);
  copy[at] = (copy[at] ?? 0) ^ (1 << bit);
  return copy;
};
const cat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const setU16 = (c: Uint8Array, at: number, v: number): Uint8Array => {
  const copy = new Uint8Array(c);
  new DataView(copy.buffer).setUint16(at, v);
  return copy;
};
const setU32 = (c: Uint8Array, at: number, v: number): Uint8Array => {
  const copy = new Uint8Array(c);
  new DataView(copy.buffer).setUint32(at, v);
  return copy;
};
const header = (c: Uint8Array): Uint8Array => c.subarray(0, HEADER_BYTES);

export const TAMPER_CASES: readonly TamperCase[] = [
  {
    name: 'magic byte changed',
    attackClass: 'header',
    expect: 'NotAContainer',
    apply: (f) => flip(f.short, 1),
  },
  {
    name: 'version 2',
    attackClass: 'header',
    expect: 'UnsupportedVersion',
    apply: (f) => setU16(f.short, 8, 2),
  },
  {
    name: 'version 0',
    attackClass: 'header',
    expect: 'UnsupportedVersion',
    apply: (f) => setU16(f.short, 8, 0),
  },
  {
    name: 'reserved flag set',
    attackClass: 'header',
    expect: 'UnsupportedVersion',
    apply: (f) => setU16(f.short, 10, 1),
  },
  {
    name: 'chunk size doubled',
    attackClass: 'header',
    expect: 'TamperedCiphertext',
    apply: (f) => setU32(f.short, 12, f.chunkSize * 2),
  },
  {
    name: 'chunk size off by one',
    attackClass: 'header',
    expect: 'TamperedCiphertext',
    apply: (f) => setU32(f.short, 12, f.chunkSize + 1),
  },
  {
    name: 'chunk size zero',
    attackClass: 'header',
    expect: 'MalformedContainer',
    apply: (f) => setU32(f.short, 12, 0),
  },
  {
    name: 'chunk size 4 GiB',
    attackClass: 'header',
    expect: 'MalformedContainer',
    apply: (f) => setU32(f.short, 12, 0xffffffff),
  },
  {
    name: 'dataset id changed',
    attackClass: 'header',
    expect: 'UnknownDataset',
    apply: (f) => flip(f.short, 20),
  },
  {
    name: 'stream header changed',
    attackClass: 'header',
    expect: 'TamperedCiphertext',
    apply: (f) => flip(f.short, 40),
  },
  {
    name: 'key commitment changed',
    attackClass: 'header',
    expect: 'WrongKey',
    apply: (f) => flip(f.short, 70),
  },
  {
    name: 'empty file',
    attackClass: 'not a container',
    expect: 'NotAContainer',
    apply: () => new Uint8Array(0),
  },
  {
    name: 'zeros',
    attackClass: 'not a container',
    expect: 'NotAContainer',
    apply: (f) => new Uint8Array(f.short.length),
  },
  {
    name: 'plaintext CSV',
    attackClass: 'not a container',
    expect: 'NotAContainer',
    apply: () => new TextEncoder().encode('id,age\n1,42\n'),
  },
  {
    name: 'cut inside the magic',
    attackClass: 'truncation',
    expect: 'TruncatedCiphertext',
    apply: (f) => f.short.subarray(0, 4),
  },
  {
    name: 'cut inside the header',
    attackClass: 'truncation',
    expect: 'TruncatedCiphertext',
    apply: (f) => f.short.subarray(0, 50),
  },
  {
    name: 'header only',
    attackClass: 'truncation',
    expect: 'TruncatedCiphertext',
    apply: (f) => header(f.short),
  },
  {
    name: 'cut after chunk 0',
    attackClass: 'truncation',
    expect: 'TruncatedCiphertext',
    apply: (f) => f.short.subarray(0, chunkAt(f, 1)),
  },
  {
    name: 'cut after chunk 2 (final chunk dropped)',
    attackClass: 'truncation',
    expect: 'TruncatedCiphertext',
    apply: (f) => f.short.subarray(0, chunkAt(f, 3)),
  },
  {
    name: 'full-chunk file, final chunk dropped',
    attackClass: 'truncation',
    expect: 'TruncatedCiphertext',
    apply: (f) => f.full.subarray(0, chunkAt(f, 3)),
  },
  {
    name: 'cut inside chunk 1',
    attackClass: 'truncation',
    expect: 'TamperedCiphertext',
    apply: (f) => f.short.subarray(0, chunkAt(f, 1) + 40),
  },
  {
    name: 'cut to 10 bytes into chunk 1',
    attackClass: 'truncation',
    expect: 'TruncatedCiphertext',
    apply: (f) => f.short.subarray(0, chunkAt(f, 1) + 10),
  },
  {
    name: 'last byte removed',
    attackClass: 'truncation',
    expect: 'TamperedCiphertext',
    apply: (f) => f.short.subarray(0, f.short.length - 1),
  },
  {
    name: 'last byte removed (full final chunk)',
    attackClass: 'truncation',
    expect: 'TamperedCiphertext',
    apply: (f) => f.full.subarray(0, f.full.length - 1),
  },
  {
    name: 'one byte appended',
    attackClass: 'extension',
    expect: 'TamperedCiphertext',
    apply: (f) => cat(f.short, Uint8Array.of(0)),
  },
  {
    name: 'one byte appended after a full final chunk',
    attackClass: 'extension',
    expect: 'TrailingData',
    apply: (f) => cat(f.full, Uint8Array.of(0)),
  },
  {
    name: 'final chunk repeated',
    attackClass: 'extension',
    expect: 'TrailingData',
    apply: (f) => cat(f.full, chunk(f.full, f, 3)),
  },
  {
    name: 'a whole container appended',
    attackClass: 'extension',
    expect: 'TrailingData',
    apply: (f) => cat(f.full, f.full),
  },
  {
    name: 'chunks 1 and 2 swapped',
    attackClass: 'reordering',
    expect: 'TamperedCiphertext',
    apply: (f) =>
      cat(
        f.short.subarray(0, chunkAt(f, 1)),
        chunk(f.short, f, 2),
        chunk(f.short, f, 1),
        f.short.subarray(chunkAt(f, 3)),
      ),
  },
  {
    name: 'chunk 0 and 1 swapped',
    attackClass: 'reordering',
    expect: 'TamperedCiphertext',
    apply: (f) =>
      cat(
        header(f.short),
        chunk(f.short, f, 1),
        chunk(f.short, f, 0),
        f.short.subarray(chunkAt(f, 2)),
      ),
  },
  {
    name: 'chunk 1 duplicated',
    attackClass: 'reordering',
    expect: 'TamperedCiphertext',
    apply: (f) =>
      cat(
        f.short.subarray(0, chunkAt(f, 2)),
        chunk(f.short, f, 1),
        f.short.subarray(chunkAt(f, 2)),
      ),
  },
  {
    name: 'chunk 1 dropped',
    attackClass: 'reordering',
    expect: 'TamperedCiphertext',
    apply: (f) => cat(f.short.subarray(0, chunkAt(f, 1)), f.short.subarray(chunkAt(f, 2))),
  },
  {
    name: 'final chunk moved first',
    attackClass: 'reordering',
    expect: 'TamperedCiphertext',
    apply: (f) =>
      cat(header(f.full), chunk(f.full, f, 3), f.full.subarray(chunkAt(f, 0), chunkAt(f, 3))),
  },
  {
    name: 'chunk 2 from another container',
    attackClass: 'splicing',
    expect: 'TamperedCiphertext',
    apply: (f) =>
      cat(
        f.short.subarray(0, chunkAt(f, 2)),
        chunk(f.other, f, 2),
        f.short.subarray(chunkAt(f, 3)),
      ),
  },
  {
    name: 'header of another container',
    attackClass: 'splicing',
    expect: 'TamperedCiphertext',
    apply: (f) => cat(header(f.other), f.short.subarray(HEADER_BYTES)),
  },
  {
    name: 'final chunk of another container',
    attackClass: 'splicing',
    expect: 'TamperedCiphertext',
    apply: (f) => cat(f.short.subarray(0, chunkAt(f, 3)), chunk(f.other, f, 3)),
  },
  {
    name: 'first half of one, second half of another',
    attackClass: 'splicing',
    expect: 'TamperedCiphertext',
    apply: (f) => cat(f.short.subarray(0, chunkAt(f, 2)), f.other.subarray(chunkAt(f, 2))),
  },
  {
    name: 'bit flip in chunk 0 ciphertext',
    attackClass: 'bit flip',
    expect: 'TamperedCiphertext',
    apply: (f) => flip(f.short, chunkAt(f, 0) + 5),
  },
  {
    name: 'bit flip in chunk 0 encrypted tag byte',
    attackClass: 'bit flip',
    expect: 'TamperedCiphertext',
    apply: (f) => flip(f.short, chunkAt(f, 0)),
  },
  {
    name: 'bit flip in chunk 1 MAC',
    attackClass: 'bit flip',
    expect: 'TamperedCiphertext',
    apply: (f) => flip(f.short, chunkAt(f, 2) - 1, 7),
  },
  {
    name: 'bit flip in final chunk ciphertext',
    attackClass: 'bit flip',
    expect: 'TamperedCiphertext',
    apply: (f) => flip(f.short, chunkAt(f, 3) + 3),
  },
  {
    name: 'bit flip in the last byte',
    attackClass: 'bit flip',
    expect: 'TamperedCiphertext',
    apply: (f) => flip(f.short, f.short.length - 1, 3),
  },
];
