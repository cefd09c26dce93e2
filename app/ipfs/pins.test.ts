import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { KUBO_CHUNK_SIZE } from './cid.ts';
import { linksOf, readBlock } from './dag.ts';
import { HeliaDatasetStore } from './node.ts';
import { failure } from './testing.ts';

async function blockFiles(folder: string): Promise<number> {
  const entries = await readdir(join(folder, 'blocks'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.data')).length;
}

describe('pins of the embedded node (pins.json)', () => {
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-pins-'));
    file = join(dir, 'data.bin');
    await writeFile(file, randomBytes(5 * KUBO_CHUNK_SIZE + 3));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pins survive a restart, and gc keeps exactly the pinned DAG', async () => {
    const folder = join(dir, 'restart');
    let node = await HeliaDatasetStore.open({ folder, listen: [] });
    const { cid } = await node.add(file);
    await node.pin(cid);
    await node.close();
    node = await HeliaDatasetStore.open({ folder, listen: [] });
    try {
      expect(await node.isPinned(cid)).toBe(true);
      const loose = join(dir, 'loose.bin');
      await writeFile(loose, randomBytes(2 * KUBO_CHUNK_SIZE));
      await node.add(loose);
      // pinned: 6 leaves + root; loose: 2 leaves + root
      expect(await blockFiles(folder)).toBe(7 + 3);
      await node.gc();
      expect(await blockFiles(folder)).toBe(7);
      expect((await node.verify(cid)).blocks).toBe(7);
    } finally {
      await node.close();
    }
  });

  it('pins recorded by an earlier version (Helia pin records) are carried over once', async () => {
    const folder = join(dir, 'legacy');
    let node = await HeliaDatasetStore.open({ folder, listen: [] });
    const { cid } = await node.add(file);
    for await (const _ of node.helia.pins.add(cid)) {
      // Helia's own pin, as the node recorded it before pins.json existed
    }
    await node.close();
    await rm(join(folder, 'pins.json'));
    node = await HeliaDatasetStore.open({ folder, listen: [] });
    try {
      expect(await node.isPinned(cid)).toBe(true);
      await node.gc();
      expect((await node.verify(cid)).blocks).toBe(7);
    } finally {
      await node.close();
    }
  });

  it('a pin file that is not one stops the node from opening (StorageUnavailable) and is kept', async () => {
    const folder = join(dir, 'damaged');
    const node = await HeliaDatasetStore.open({ folder, listen: [] });
    await node.close();
    await writeFile(join(folder, 'pins.json'), '{"version":1,"roots":["not a cid"]}');
    const error = await failure(HeliaDatasetStore.open({ folder, listen: [] }));
    expect(isCustosError(error, 'StorageUnavailable')).toBe(true);
    expect((error as Error).message).toContain('pins.json');
  });

  it('gc refuses to collect anything while a pinned DAG is damaged (an intermediate node gone)', async () => {
    const folder = join(dir, 'hole');
    const node = await HeliaDatasetStore.open({ folder, listen: [] });
    try {
      const big = join(dir, 'two-level.bin');
      await writeFile(big, randomBytes(175 * KUBO_CHUNK_SIZE));
      const { cid } = await node.add(big);
      await node.pin(cid);
      const loose = join(dir, 'loose-2.bin');
      await writeFile(loose, randomBytes(KUBO_CHUNK_SIZE + 1));
      await node.add(loose);
      const inner = linksOf(cid, await readBlock(node.local, cid))[0];
      if (!inner) throw new Error('no intermediate node');
      await node.local.delete(inner);
      const before = await blockFiles(folder);
      expect(isCustosError(await failure(node.gc()), 'BlockMissing')).toBe(true);
      expect(await blockFiles(folder)).toBe(before);
    } finally {
      await node.close();
    }
  });
});
