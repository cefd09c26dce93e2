import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balanced } from 'ipfs-unixfs-importer/layout';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { cidOfFile, importBytes, kuboImporterOptions, type CidVersion } from './cid.ts';

const text = (s: string): Uint8Array[] => [new TextEncoder().encode(s)];

// kubo's own test suite: test/sharness/t0040-add-and-cat.sh (`ipfs add` with default settings,
// i.e. CIDv0, and `--raw-leaves` for the empty file).
const KUBO_SHARNESS: { name: string; content: string; cidVersion: CidVersion; cid: string }[] = [
  {
    name: 'hello.txt',
    content: 'Hello Worlds!\n',
    cidVersion: 0,
    cid: 'QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH',
  },
  {
    name: 'hello2.txt',
    content: 'Helloo Worlds!\n',
    cidVersion: 0,
    cid: 'Qmf35k66MZNW2GijohUmXQEWKZU4cCGTCwK6idfnt152wJ',
  },
  {
    name: '--stdin-name file.txt',
    content: 'IPFS\n',
    cidVersion: 0,
    cid: 'QmdFyxZXsFiP4csgfM5uPu99AvFiKH62CSPDw5TP92nr7w',
  },
  {
    name: 'zero-length-file',
    content: '',
    cidVersion: 0,
    cid: 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH',
  },
  {
    name: 'zero-length-file --raw-leaves (= CIDv1 default)',
    content: '',
    cidVersion: 1,
    cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
  },
  {
    // t0040 prints this CIDv0 in base32 (`--cid-base=base32` upgrades v0 to v1 in output)
    name: 'base32-test.txt',
    content: 'base32 test\n',
    cidVersion: 0,
    cid: 'bafybeibyosqxljd2eptb4ebbtvk7pb4aoxzqa6ttdsflty6rsslz5y6i34',
  },
];

// Vectors generated with go-unixfs `balanced.Layout` (RawLeaves, CIDv0 inner nodes) at tiny chunk
// sizes and link counts, so that a few bytes already build multi-level trees (published with
// cpp-filecoin's unixfs tests). They pin down the DAG *shape*, not only the chunking.
const GO_UNIXFS_BALANCED: { data: string; chunkSize: number; maxLinks: number; cid: string }[] = [
  {
    data: '[0     9)',
    chunkSize: 10,
    maxLinks: 2,
    cid: 'bafkreieqjdswwovkokzitxxsn4ppswzzsy2qs623duz5ivjhplglbygbou',
  },
  {
    data: '[0     10)',
    chunkSize: 10,
    maxLinks: 2,
    cid: 'bafkreiaymswyg525nktwb75n53rcwdqvjbfjgi5nu4glriglylthbnuxnu',
  },
  {
    data: '[0     10)[10   19)',
    chunkSize: 10,
    maxLinks: 2,
    cid: 'QmUyaoLFxpUpZra4qs65dMbrBMEERJt91JL3kdyKEXqLxN',
  },
  {
    data: '[0     10)[10     21)',
    chunkSize: 10,
    maxLinks: 2,
    cid: 'QmZ9KupPPphsds2Cbu7Ntb73tUHbyrZEgJisHMmw9AUfQP',
  },
  {
    data: '[0     10)[10    20)[10    30)',
    chunkSize: 10,
    maxLinks: 2,
    cid: 'QmSYvtzqeJY6zCRk31SdRweDD6z1bwP9GJY5bmKQ55XwWp',
  },
  {
    data: '[0     10)[10    20)[10     31)',
    chunkSize: 10,
    maxLinks: 2,
    cid: 'QmZ2Be9hJQhifpgASmQTGkL7j9KUaJC5W9siL6MnFSkLhd',
  },
  {
    data: '[0     10)[10    20)[10    30)',
    chunkSize: 5,
    maxLinks: 3,
    cid: 'QmYb4gZGCAkRdNZbc5npDzLJA34ZzPtdVDmESb9Xk76Ws2',
  },
];

describe('kubo-identical CIDs', () => {
  it.each(KUBO_SHARNESS)(
    'kubo sharness t0040: $name → $cid',
    async ({ content, cidVersion, cid }) => {
      const root = await importBytes(text(content), { cidVersion });
      expect(root.cid.version).toBe(cidVersion);
      // a CIDv0 printed in base32 is compared in its v1 form, exactly as kubo printed it
      expect(cid.startsWith('Qm') ? root.cid.toString() : root.cid.toV1().toString()).toBe(cid);
    },
  );

  it.each(GO_UNIXFS_BALANCED)(
    'go-unixfs balanced layout: $chunkSize-byte chunks, $maxLinks links, $data → $cid',
    async ({ data, chunkSize, maxLinks, cid }) => {
      const root = await importBytes(text(data), {
        cidVersion: 0,
        rawLeaves: true,
        chunkSize,
        maxLinks,
      });
      expect(root.cid.toString()).toBe(cid);
      expect(root.size).toBe(BigInt(data.length));
    },
  );

  it('streams: the same CID whatever the read sizes of the source', async () => {
    const bytes = new Uint8Array(3 * 1000 + 17).map((_, i) => (i * 7919) % 251);
    const whole = await importBytes([bytes], { cidVersion: 1, chunkSize: 100, maxLinks: 3 });
    const pieces = (step: number): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += step) out.push(bytes.subarray(i, i + step));
      return out;
    };
    for (const step of [1, 99, 100, 101, 4096]) {
      expect(
        (
          await importBytes(pieces(step), { cidVersion: 1, chunkSize: 100, maxLinks: 3 })
        ).cid.toString(),
      ).toBe(whole.cid.toString());
    }
  });

  it('the streaming layout builds exactly the tree of the importer’s own balanced layout (any leaf count)', async () => {
    // Cross-check against the reference (non-streaming) implementation on every leaf count around
    // the level boundaries of a 3-link tree: 1…40 chunks covers depths 0 to 4.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 * 8 }),
        fc.constantFrom<CidVersion>(0, 1),
        fc.integer({ min: 2, max: 4 }),
        async (length, cidVersion, maxLinks) => {
          const bytes = new Uint8Array(length).map((_, i) => (i * 31 + length) % 256);
          const ours = await importBytes([bytes], { cidVersion, chunkSize: 8, maxLinks });
          const options = {
            ...kuboImporterOptions({ cidVersion }),
            chunker: fixedSize({ chunkSize: 8 }),
            layout: balanced({ maxChildrenPerNode: maxLinks }),
          };
          let reference = '';
          for await (const e of importer([{ content: [bytes] }], { put: (c) => c }, options))
            reference = e.cid.toString();
          expect(ours.cid.toString()).toBe(reference);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('cidOfFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cid-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file from disk: "Hello Worlds!\\n" gives kubo’s CIDv0 and a raw CIDv1', async () => {
    const path = join(dir, 'hello.txt');
    await writeFile(path, 'Hello Worlds!\n');
    expect((await cidOfFile(path, { cidVersion: 0 })).toString()).toBe(
      'QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH',
    );
    const v1 = await cidOfFile(path);
    expect(v1.version).toBe(1);
    expect(v1.code).toBe(0x55); // raw leaf: one chunk
  });

  it('a missing file is NotFound', async () => {
    const error: unknown = await cidOfFile(join(dir, 'nope')).catch((e: unknown) => e);
    expect(isCustosError(error, 'NotFound')).toBe(true);
  });

  it('a directory is NotFound (not a regular file)', async () => {
    const error: unknown = await cidOfFile(dir).catch((e: unknown) => e);
    expect(isCustosError(error, 'NotFound')).toBe(true);
  });

  it('an unreadable file is PermissionDenied, with a message that says so', async () => {
    // a folder others may enter, holding a file nobody may read
    const folder = await mkdtemp(join(tmpdir(), 'custos-unreadable-'));
    await chmod(folder, 0o755);
    const path = join(folder, 'secret');
    await writeFile(path, 'x');
    await chmod(path, 0o000);
    try {
      if (process.getuid?.() !== 0) {
        const error: unknown = await cidOfFile(path).catch((e: unknown) => e);
        expect(isCustosError(error, 'PermissionDenied')).toBe(true);
        return;
      }
      // root reads anything: ask as an unprivileged user, through the CLI
      const bin = join(import.meta.dirname, '..', '..', 'bin', 'custos.js');
      const run = spawnSync(process.execPath, [bin, 'cid', path], {
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', HOME: tmpdir() },
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        `custos: PermissionDenied: not allowed to read or write ${path}`,
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
