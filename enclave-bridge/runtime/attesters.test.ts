import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustosError } from '../../app/errors/index.ts';
import { tdxTsmAttester, type TsmFileSystem } from './attesters.ts';

// configfs-tsm exists only in a TDX guest. Here a folder stands in for /sys/kernel/config/tsm/report
// and the file operations play the kernel's part at the lowest layer: making an entry creates its
// attribute files, as configfs does. What is checked is our side: what it writes, reads, cleans up.
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-tsm-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

function fakeKernel(
  provider: string,
  quote: Uint8Array,
  options: { raceGeneration?: boolean } = {},
) {
  const written: Record<string, Buffer> = {};
  let generationReads = 0;
  const fs: TsmFileSystem = {
    async mkdir(path) {
      await mkdir(path);
      await writeFile(join(path, 'provider'), `${provider}\n`);
      await writeFile(join(path, 'generation'), '1\n');
      await writeFile(join(path, 'outblob'), quote);
    },
    async readFile(path) {
      if (path.endsWith('generation') && options.raceGeneration && (generationReads += 1) === 2)
        return Buffer.from('2\n');
      return readFile(path);
    },
    async writeFile(path, data) {
      written[path.split('/').pop() ?? path] = Buffer.from(data);
      await writeFile(path, data);
    },
    async rmdir(path) {
      for (const f of await readdir(path)) await rm(join(path, f));
      await rmdir(path);
    },
  };
  return { fs, written };
}

describe('TDX attester over configfs-tsm', () => {
  it('writes report_data to inblob, returns outblob as the quote, removes its entry', async () => {
    const quote = new Uint8Array(600).fill(7);
    const k = fakeKernel('tdx_guest', quote);
    const reportData = new Uint8Array(64).fill(5);
    const evidence = await tdxTsmAttester(root, k.fs).evidence(reportData);
    expect(evidence).toEqual({ kind: 'dcap', quote: Buffer.from(quote).toString('base64') });
    expect(k.written['inblob']).toEqual(Buffer.from(reportData));
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses another TSM provider (e.g. SEV-SNP) and cleans up', async () => {
    const k = fakeKernel('sev_guest', new Uint8Array(600));
    await expect(tdxTsmAttester(root, k.fs).evidence(new Uint8Array(64))).rejects.toMatchObject({
      tag: 'AttestationInvalid',
    });
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses a report that changed while it was read (generation moved)', async () => {
    const k = fakeKernel('tdx_guest', new Uint8Array(600), { raceGeneration: true });
    await expect(tdxTsmAttester(root, k.fs).evidence(new Uint8Array(64))).rejects.toMatchObject({
      tag: 'AttestationInvalid',
    });
  });

  it('refuses a report_data that is not 64 bytes', async () => {
    await expect(tdxTsmAttester(root).evidence(new Uint8Array(32))).rejects.toMatchObject({
      tag: 'UsageError',
    });
  });

  it('says so when configfs-tsm is missing (not a TDX guest)', async () => {
    const e = await tdxTsmAttester(join(root, 'absent', 'deeper'))
      .evidence(new Uint8Array(64))
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CustosError);
    expect((e as CustosError).tag).toBe('AttestationInvalid');
  });
});
