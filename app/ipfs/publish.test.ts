// Resumable publish against a real kubo daemon (see kubo.test.ts for the binary).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FsBlockstore } from 'blockstore-fs';
import type { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { KUBO_CHUNK_SIZE } from './cid.ts';
import { KuboDaemon, kuboBinary } from './kubo-process.ts';
import { KuboRpcBackend } from './kubo-rpc.ts';
import { HeliaDatasetStore } from './node.ts';
import { publishToKubo } from './publish.ts';
import { failure } from './testing.ts';

const BATCH = 8; // blocks per CAR: 2 MiB batches, so a 12 MiB file takes 7 batches
const LEAVES = 48;

describe('resumable publish to kubo', () => {
  let binary: string;
  let dir: string;
  let kubo: KuboDaemon;

  /** Adds a fresh random file to a node in `folder` (closed again) and returns its CID. */
  async function dataset(
    name: string,
  ): Promise<{ cid: CID; path: string; blocks: FsBlockstore; total: number }> {
    const path = join(dir, `${name}.bin`);
    await writeFile(path, randomBytes(LEAVES * KUBO_CHUNK_SIZE - 1000));
    const folder = join(dir, name);
    const node = await HeliaDatasetStore.open({ folder, listen: [] });
    const { cid } = await node.add(path);
    const { blocks: total } = await node.verify(cid);
    await node.close();
    const blocks = new FsBlockstore(join(folder, 'blocks'));
    await blocks.open();
    return { cid, path, blocks, total };
  }

  beforeAll(async () => {
    binary = kuboBinary();
    dir = await mkdtemp(join(tmpdir(), 'custos-publish-'));
    kubo = await KuboDaemon.start(binary);
  }, 60_000);
  afterAll(async () => {
    await kubo?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('publishes in batches and ends pinned; ipfs cat matches; a second run sends nothing', async () => {
    const { cid, path, blocks, total } = await dataset('plain');
    const rpc = new KuboRpcBackend({ apiUrl: kubo.apiUrl });
    const batches: number[] = [];
    const result = await publishToKubo(blocks, rpc, cid, {
      journalDir: join(dir, 'journal'),
      batchBlocks: BATCH,
      onBatch: (p) => {
        batches.push(p.batch);
      },
    });
    expect(result.blocksSent).toBe(total);
    expect(batches).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await rpc.isPinned(cid)).toBe(true);
    expect(
      (await kubo.cli(['cat', '--offline', cid.toString()])).equals(await readFile(path)),
    ).toBe(true);
    expect(await readdir(join(dir, 'journal'))).toEqual([]); // journal removed once done
    const again = await publishToKubo(blocks, rpc, cid, {
      journalDir: join(dir, 'journal'),
      batchBlocks: BATCH,
    });
    expect(again.blocksSent).toBe(0);
  });

  it('a publisher killed with SIGKILL mid-way resumes after the last confirmed batch', async () => {
    const { cid, path, blocks, total } = await dataset('killed');
    const journalDir = join(dir, 'journal-killed');
    const here = pathToFileURL(join(import.meta.dirname, 'publish.ts')).href;
    const rpcUrl = pathToFileURL(join(import.meta.dirname, 'kubo-rpc.ts')).href;
    const script = `
      const { publishToKubo } = await import(${JSON.stringify(here)});
      const { KuboRpcBackend } = await import(${JSON.stringify(rpcUrl)});
      const { FsBlockstore } = await import('blockstore-fs');
      const { CID } = await import('multiformats/cid');
      const blocks = new FsBlockstore(${JSON.stringify(join(dir, 'killed', 'blocks'))});
      await blocks.open();
      await publishToKubo(blocks, new KuboRpcBackend({ apiUrl: ${JSON.stringify(kubo.apiUrl)} }),
        CID.parse(${JSON.stringify(cid.toString())}),
        { journalDir: ${JSON.stringify(journalDir)}, batchBlocks: ${BATCH},
          onBatch: (p) => {
            process.stdout.write('batch ' + p.batch + '\\n');
            // hold the thread right after batch 2 was confirmed and journalled, until the kill lands
            if (p.batch === 2) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000);
          } });
      process.stdout.write('done\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('batch 2\n')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () =>
        out.includes('batch 2\n') ? resolve() : reject(new Error(`child ended: ${out}`)),
      );
    });
    await new Promise((r) =>
      child.exitCode === null && child.signalCode === null ? child.once('exit', r) : r(null),
    );
    expect(out).not.toContain('done');
    const rpc = new KuboRpcBackend({ apiUrl: kubo.apiUrl });
    expect(await rpc.isPinned(cid)).toBe(false); // never pinned while incomplete

    const resumed = await publishToKubo(blocks, rpc, cid, { journalDir, batchBlocks: BATCH });
    expect(resumed.blocksSkipped).toBeGreaterThanOrEqual(3 * BATCH);
    expect(resumed.blocksSent + resumed.blocksSkipped).toBe(total);
    expect(resumed.blocksSent).toBeLessThan(total);
    expect(await rpc.isPinned(cid)).toBe(true);
    expect(
      (await kubo.cli(['cat', '--offline', cid.toString()])).equals(await readFile(path)),
    ).toBe(true);
  });

  it('kubo down mid-way: StorageUnavailable, nothing pinned; after restart it resumes', async () => {
    const { cid, path, blocks, total } = await dataset('down');
    const journalDir = join(dir, 'journal-down');
    const own = await KuboDaemon.start(binary);
    let restarted: KuboDaemon | undefined;
    try {
      const rpc = new KuboRpcBackend({ apiUrl: own.apiUrl });
      const error = await failure(
        publishToKubo(blocks, rpc, cid, {
          journalDir,
          batchBlocks: BATCH,
          onBatch: async (p) => {
            if (p.batch === 1) await own.stop({ keepRepo: true }); // kubo dies between batches 1 and 2
          },
        }),
      );
      expect(isCustosError(error, 'StorageUnavailable')).toBe(true);

      restarted = await KuboDaemon.start(binary, own.repo);
      const rpc2 = new KuboRpcBackend({ apiUrl: restarted.apiUrl });
      expect(await rpc2.isPinned(cid)).toBe(false);
      const resumed = await publishToKubo(blocks, rpc2, cid, { journalDir, batchBlocks: BATCH });
      expect(resumed.blocksSkipped).toBeGreaterThanOrEqual(2 * BATCH);
      expect(resumed.blocksSent + resumed.blocksSkipped).toBe(total);
      expect(await rpc2.isPinned(cid)).toBe(true);
      expect(
        (await restarted.cli(['cat', '--offline', cid.toString()])).equals(await readFile(path)),
      ).toBe(true);
    } finally {
      await restarted?.stop();
      await own.stop().catch(() => undefined);
    }
  });

  it('kubo garbage-collected confirmed batches before the end: the publish notices and re-sends them', async () => {
    const { cid, blocks, total } = await dataset('gced');
    const journalDir = join(dir, 'journal-gc');
    const rpc = new KuboRpcBackend({ apiUrl: kubo.apiUrl });
    // first attempt interrupted by the caller after two batches
    const controller = new AbortController();
    await failure(
      publishToKubo(blocks, rpc, cid, {
        journalDir,
        batchBlocks: BATCH,
        signal: controller.signal,
        onBatch: (p) => {
          if (p.batch === 1) controller.abort();
        },
      }),
    );
    await kubo.cli(['repo', 'gc', '--quiet']); // the unpinned, confirmed batches are gone
    const resumed = await publishToKubo(blocks, rpc, cid, { journalDir, batchBlocks: BATCH });
    expect(resumed.recheckedBlocks).toBe(true);
    expect(await rpc.isPinned(cid)).toBe(true);
    expect(resumed.blocksSkipped).toBe(2 * BATCH); // the journal was trusted first…
    expect(resumed.blocksSent).toBe(total); // …then the 2 lost batches were found and re-sent
  });

  it('a local block missing: BlockMissing before anything is pinned', async () => {
    const { cid, blocks } = await dataset('hole');
    const rootBytes: Uint8Array[] = [];
    for await (const c of blocks.get(cid)) rootBytes.push(c);
    const { linksOf } = await import('./dag.ts');
    const leaf = linksOf(cid, Buffer.concat(rootBytes))[40];
    if (!leaf) throw new Error('no leaf');
    await blocks.delete(leaf);
    const rpc = new KuboRpcBackend({ apiUrl: kubo.apiUrl });
    const error = await failure(
      publishToKubo(blocks, rpc, cid, {
        journalDir: join(dir, 'journal-hole'),
        batchBlocks: BATCH,
      }),
    );
    expect(isCustosError(error, 'BlockMissing')).toBe(true);
    expect(await rpc.isPinned(cid)).toBe(false);
  });
});
