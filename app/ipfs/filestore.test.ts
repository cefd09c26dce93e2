import { randomBytes } from 'node:crypto';
import {
  appendFile,
  mkdtemp,
  open,
  readdir,
  rm,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CarBlockIterator } from '@ipld/car';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { cidOfFile, KUBO_CHUNK_SIZE } from './cid.ts';
import { HeliaDatasetStore } from './node.ts';
import { collect, failure } from './testing.ts';

const CHUNK = KUBO_CHUNK_SIZE;

/** Every file under `dir`, recursively (full paths). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('filestore: leaves referenced in the added file, not copied (decision 003)', () => {
  let dir: string;
  let node: HeliaDatasetStore;
  let folder: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-filestore-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    folder = await mkdtemp(join(dir, 'node-'));
    node = await HeliaDatasetStore.open({ folder, listen: [] });
  });
  afterEach(async () => {
    await node.close();
  });

  const write = async (name: string, bytes: Buffer): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };

  it('gives the kubo CID for every size, stores only the intermediate nodes, and cats the same bytes', async () => {
    // 0 and 1 byte, one chunk ± 1, several leaves, and the first two-level tree (175 leaves)
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17, 175 * CHUNK]) {
      const content = randomBytes(size);
      const path = await write(`f-${size}.bin`, content);
      const { cid } = await node.add(path, { noCopy: true });
      expect(cid.toString(), `${size} bytes`).toBe((await cidOfFile(path)).toString());
      expect((await collect(node.cat(cid))).equals(content), `${size} bytes`).toBe(true);
    }
    // no leaf was copied: the block files are the few intermediate nodes
    const blockFiles = await filesUnder(join(folder, 'blocks'));
    const sizes = await Promise.all(blockFiles.map(async (f) => (await stat(f)).size));
    expect(blockFiles.length).toBeGreaterThanOrEqual(4); // 3-leaf root; 175-leaf root + 2 inner
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(64 * 1024);
    // one index per add
    expect(
      (await readdir(join(folder, 'filestore'))).filter((f) => f.endsWith('.refs')),
    ).toHaveLength(7);
  });

  it('verify, pin and the CAR export read referenced leaves; the CAR holds every block', async () => {
    const content = randomBytes(4 * CHUNK + 5);
    const path = await write('car.bin', content);
    const { cid } = await node.add(path, { noCopy: true });
    expect(await node.verify(cid)).toEqual({ blocks: 6, bytes: expect.any(Number) as number });
    await node.pin(cid);
    expect(await node.isPinned(cid)).toBe(true);
    const blocks: Uint8Array[] = [];
    for await (const block of await CarBlockIterator.fromIterable(node.exportCar(cid)))
      blocks.push(block.bytes);
    expect(blocks).toHaveLength(6);
    expect(Buffer.concat(blocks.slice(1)).equals(content)).toBe(true);
  });

  it('a flipped byte in the file is caught by hash: verify and cat say CidMismatch, naming the file', async () => {
    const content = randomBytes(2 * CHUNK + 9);
    const path = await write('flip.bin', content);
    const { cid } = await node.add(path, { noCopy: true });
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from([content[CHUNK + 3]! ^ 1]), 0, 1, CHUNK + 3);
    await handle.close();
    const verifyError = await failure(node.verify(cid));
    expect(isCustosError(verifyError, 'CidMismatch')).toBe(true);
    expect((verifyError as Error).message).toContain(path);
    expect(isCustosError(await failure(collect(node.cat(cid))), 'CidMismatch')).toBe(true);
    expect(isCustosError(await failure(node.pin(cid)), 'CidMismatch')).toBe(true);
    expect(await node.isPinned(cid)).toBe(false);
  });

  it('a truncated or deleted file leaves its leaves missing: BlockMissing, nothing pinned', async () => {
    const path = await write('gone.bin', randomBytes(3 * CHUNK));
    const { cid } = await node.add(path, { noCopy: true });
    await truncate(path, CHUNK + 10);
    expect(isCustosError(await failure(node.verify(cid)), 'BlockMissing')).toBe(true);
    await rm(path);
    const error = await failure(node.pin(cid));
    expect(isCustosError(error, 'BlockMissing')).toBe(true);
    expect((error as Error).message).toContain(`kept in ${path}, which cannot be read`);
    expect(await node.isPinned(cid)).toBe(false);
  });

  it('a leaf also held as a block file is read from the copy when its referenced file is gone', async () => {
    const content = randomBytes(2 * CHUNK);
    const path = await write('both.bin', content);
    const { cid } = await node.add(path, { noCopy: true });
    await node.add(path); // the same leaves, copied
    await rm(path);
    expect((await collect(node.cat(cid))).equals(content)).toBe(true);
  });

  it('a file that grows while it is added is refused (FileUnreadable) and nothing is referenced', async () => {
    const path = await write('growing.bin', randomBytes(6 * CHUNK));
    let grown: Promise<void> | undefined;
    const add = node.add(path, {
      noCopy: true,
      onProgress: () => {
        grown ??= appendFile(path, randomBytes(100));
      },
    });
    const error = await failure(add);
    await grown;
    expect(isCustosError(error, 'FileUnreadable')).toBe(true);
    expect(await readdir(join(folder, 'filestore'))).toEqual([]);
  });

  it('a cancelled add leaves no index and no temp file', async () => {
    const path = await write('cancel.bin', randomBytes(8 * CHUNK));
    const controller = new AbortController();
    const add = node.add(path, {
      noCopy: true,
      signal: controller.signal,
      onProgress: (n) => {
        if (n >= 2 * CHUNK) controller.abort();
      },
    });
    expect(isCustosError(await failure(add), 'Cancelled')).toBe(true);
    expect(await readdir(join(folder, 'filestore'))).toEqual([]);
  });

  it('references survive a restart', async () => {
    const content = randomBytes(3 * CHUNK + 1);
    const path = await write('restart.bin', content);
    const { cid } = await node.add(path, { noCopy: true });
    await node.close();
    node = await HeliaDatasetStore.open({ folder, listen: [] });
    expect((await node.verify(cid)).blocks).toBe(5);
    expect((await collect(node.cat(cid))).equals(content)).toBe(true);
  });

  it('gc drops unpinned references (index removed), keeps pinned ones, and rewrites a shared index', async () => {
    const a = randomBytes(3 * CHUNK);
    const b = Buffer.concat([a, randomBytes(2 * CHUNK)]); // shares a's 3 leaves
    const pathA = await write('gc-a.bin', a);
    const pathB = await write('gc-b.bin', b);
    const cidA = (await node.add(pathA, { noCopy: true })).cid;
    const cidB = (await node.add(pathB, { noCopy: true })).cid;
    const loose = (
      await node.add(await write('gc-c.bin', randomBytes(CHUNK + 1)), { noCopy: true })
    ).cid;
    await node.pin(cidA);
    await node.gc();
    const indexes = (await readdir(join(folder, 'filestore'))).sort();
    // c is gone; b's index is kept (it still holds a's shared leaves), rewritten without its own
    expect(indexes).toEqual([`${cidA.toString()}.refs`, `${cidB.toString()}.refs`].sort());
    expect(isCustosError(await failure(node.verify(loose)), 'BlockMissing')).toBe(true);
    expect(isCustosError(await failure(node.verify(cidB)), 'BlockMissing')).toBe(true);
    expect((await collect(node.cat(cidA))).equals(a)).toBe(true);
    // after a restart the dropped leaves stay dropped; a's leaves are still found (in a or b)
    await node.close();
    node = await HeliaDatasetStore.open({ folder, listen: [] });
    expect(isCustosError(await failure(node.verify(cidB)), 'BlockMissing')).toBe(true);
    await rm(pathB);
    expect((await collect(node.cat(cidA))).equals(a)).toBe(true);
  });
});
