import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CarBlockIterator } from '@ipld/car';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { cidOfFile } from './cid.ts';
import { linksOf } from './dag.ts';
import { HeliaDatasetStore } from './node.ts';
import { collect, failure } from './testing.ts';

describe('embedded Helia node (filesystem blockstore, loopback only)', () => {
  let dir: string;
  let a: HeliaDatasetStore;
  let b: HeliaDatasetStore;
  let file: string;
  let content: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-helia-'));
    a = await HeliaDatasetStore.open({ folder: join(dir, 'a') });
    b = await HeliaDatasetStore.open({ folder: join(dir, 'b') });
    content = randomBytes(3 * 262_144 + 12_345); // 4 leaves
    file = join(dir, 'dataset.bin');
    await writeFile(file, content);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only', () => {
    const addrs = a.multiaddrs();
    expect(addrs.length).toBeGreaterThan(0);
    for (const addr of addrs) expect(addr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
  });

  it('adds a file under the kubo CID (v1 and v0) and cats the same bytes back', async () => {
    const v1 = await a.add(file);
    expect(v1.cid.toString()).toBe((await cidOfFile(file)).toString());
    expect(v1.size).toBe(BigInt(content.length));
    expect((await collect(a.cat(v1.cid))).equals(content)).toBe(true);
    const v0 = await a.add(file, { cidVersion: 0 });
    expect(v0.cid.toString()).toBe((await cidOfFile(file, { cidVersion: 0 })).toString());
    expect(v0.cid.version).toBe(0);
    expect((await collect(a.cat(v0.cid))).equals(content)).toBe(true);
  });

  it('reports add progress in file bytes', async () => {
    const seen: number[] = [];
    await a.add(file, { onProgress: (n) => seen.push(n) });
    expect(seen.at(-1)).toBe(content.length);
    expect([...seen].sort((x, y) => x - y)).toEqual(seen);
  });

  it('verify counts every block: root + 4 raw leaves', async () => {
    const { cid } = await a.add(file);
    const result = await a.verify(cid);
    expect(result.blocks).toBe(5);
    expect(result.bytes).toBeGreaterThan(content.length);
  });

  it('a second node fetches the file over bitswap from the first (loopback) and gets the same bytes', async () => {
    const { cid } = await a.add(file);
    await expect(failure(b.verify(cid))).resolves.toSatisfy((e) =>
      isCustosError(e, 'BlockMissing'),
    );
    await b.connect(a.multiaddrs()[0] as string);
    const fetched = await collect(
      b.cat(cid, { offline: false, signal: AbortSignal.timeout(20_000) }),
    );
    expect(fetched.equals(content)).toBe(true);
    expect((await b.verify(cid)).blocks).toBe(5);
  });

  it('exports a CAR holding exactly the DAG’s blocks, root declared', async () => {
    const { cid } = await a.add(file);
    const iterator = await CarBlockIterator.fromIterable(a.exportCar(cid));
    expect((await iterator.getRoots()).map(String)).toEqual([cid.toString()]);
    const cids: string[] = [];
    for await (const block of iterator) cids.push(block.cid.toString());
    expect(cids[0]).toBe(cid.toString());
    expect(cids).toHaveLength(5);
  });

  it('a pin keeps blocks through garbage collection; unpinned blocks are collected', async () => {
    const other = join(dir, 'other.bin');
    await writeFile(other, randomBytes(300_000));
    const pinned = await a.add(file);
    const loose = await a.add(other);
    await a.pin(pinned.cid);
    expect(await a.isPinned(pinned.cid)).toBe(true);
    expect(await a.isPinned(loose.cid)).toBe(false);
    await a.gc();
    expect((await a.verify(pinned.cid)).blocks).toBe(5);
    await expect(failure(a.verify(loose.cid))).resolves.toSatisfy((e) =>
      isCustosError(e, 'BlockMissing'),
    );
    await a.unpin(pinned.cid);
    expect(await a.isPinned(pinned.cid)).toBe(false);
    await a.gc();
    await expect(failure(a.verify(pinned.cid))).resolves.toSatisfy((e) =>
      isCustosError(e, 'BlockMissing'),
    );
  });

  it('a missing block: verify, cat and pin fail with BlockMissing, and nothing is pinned', async () => {
    const { cid } = await a.add(file);
    const root = await collect(a.local.get(cid));
    const leaf = linksOf(cid, root)[2];
    if (!leaf) throw new Error('no leaf');
    await a.local.delete(leaf);
    const error = await failure(a.verify(cid));
    expect(isCustosError(error, 'BlockMissing')).toBe(true);
    expect((error as Error).message).toContain(leaf.toString());
    await expect(failure(collect(a.cat(cid)))).resolves.toSatisfy((e) =>
      isCustosError(e, 'BlockMissing'),
    );
    await expect(failure(a.pin(cid))).resolves.toSatisfy((e) => isCustosError(e, 'BlockMissing'));
    expect(await a.isPinned(cid)).toBe(false);
  });

  it('with blocks read ahead, verify still names the first missing block in walk order', async () => {
    const path = join(dir, 'two-holes.bin');
    await writeFile(path, randomBytes(12 * 262_144));
    const { cid } = await a.add(path);
    const leaves = linksOf(cid, await collect(a.local.get(cid)));
    const [first, second] = [leaves[3], leaves[6]];
    if (!first || !second) throw new Error('no leaves');
    await a.local.delete(second);
    await a.local.delete(first);
    const error = await failure(a.verify(cid));
    expect(isCustosError(error, 'BlockMissing')).toBe(true);
    expect((error as Error).message).toContain(first.toString());
  });

  it('a corrupted block (bytes changed on disk) is detected by hash: CidMismatch', async () => {
    const { cid } = await a.add(file);
    const root = await collect(a.local.get(cid));
    const leaf = linksOf(cid, root)[1];
    if (!leaf) throw new Error('no leaf');
    const bytes = await collect(a.local.get(leaf));
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await a.local.delete(leaf);
    await a.local.put(leaf, bytes);
    await expect(failure(a.verify(cid))).resolves.toSatisfy((e) => isCustosError(e, 'CidMismatch'));
    await expect(failure(collect(a.cat(cid)))).resolves.toSatisfy((e) =>
      isCustosError(e, 'CidMismatch'),
    );
    await expect(failure(collect(a.exportCar(cid)))).resolves.toSatisfy((e) =>
      isCustosError(e, 'CidMismatch'),
    );
    await expect(failure(a.pin(cid))).resolves.toSatisfy((e) => isCustosError(e, 'CidMismatch'));
  });

  it('adding a missing file is NotFound', async () => {
    await expect(failure(a.add(join(dir, 'nope')))).resolves.toSatisfy((e) =>
      isCustosError(e, 'NotFound'),
    );
  });

  it('a block write that fails on the writer thread fails the add with a typed error; the next add works', async () => {
    const { NextToLast } = await import('blockstore-fs/sharding');
    const folder = join(dir, 'c');
    const c = await HeliaDatasetStore.open({ folder, listen: [] });
    try {
      const small = join(dir, 'small.bin');
      await writeFile(small, randomBytes(1000)); // one block: the root is the raw leaf
      const cid = await cidOfFile(small);
      // a regular file where the block's shard folder must go: the writer cannot create it
      const shard = join(folder, 'blocks', new NextToLast().encode(cid).dir);
      await rm(shard, { recursive: true, force: true });
      await writeFile(shard, 'not a folder');
      const error = await failure(c.add(small));
      expect(isCustosError(error)).toBe(true);
      expect((error as Error).message).toContain(shard);
      await rm(shard);
      const again = await c.add(small);
      expect(again.cid.toString()).toBe(cid.toString());
      expect((await c.verify(cid)).blocks).toBe(1);
    } finally {
      await c.close();
    }
  });

  it('a block file cut short (what a crash can leave) is caught by verify: CidMismatch', async () => {
    const { NextToLast } = await import('blockstore-fs/sharding');
    const { cid } = await a.add(file);
    const root = await collect(a.local.get(cid));
    const leaf = linksOf(cid, root)[0];
    if (!leaf) throw new Error('no leaf');
    const { dir: shard, file: name } = new NextToLast().encode(leaf);
    const path = join(dir, 'a', 'blocks', shard, name);
    await truncate(path, 1000);
    await expect(failure(a.verify(cid))).resolves.toSatisfy((e) => isCustosError(e, 'CidMismatch'));
    await a.add(file); // re-adding rewrites the block
    expect((await a.verify(cid)).blocks).toBe(5);
  });
});
