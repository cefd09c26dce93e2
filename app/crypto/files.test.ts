import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.ts';
import { decryptFile, encryptFile } from './files.ts';
import { loadBackend, type SodiumBackend } from './sodium.ts';

let dir: string;
let s: SodiumBackend;
const key = new Uint8Array(32).fill(7);
const datasetId = 'ffeeddccbbaa99887766554433221100';
const params = () => ({ sodium: s, datasetKey: key, datasetId, chunkSize: 4096 });
const keyFor = () => ({ sodium: s, keyFor: () => key });

beforeAll(async () => {
  s = await loadBackend('sodium-native');
  dir = await mkdtemp(join(tmpdir(), 'custos-files-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function tagOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return e instanceof CustosError ? e.tag : `untyped: ${String(e)}`;
  }
}

describe('file encryption and decryption', () => {
  it('round-trips a file, and the container and output are private to the user (0600)', async () => {
    const input = join(dir, 'records.csv');
    await writeFile(input, s.randomBytes(100_000));
    await encryptFile(params(), input, join(dir, 'records.custos'));
    await decryptFile(keyFor(), join(dir, 'records.custos'), join(dir, 'records.out'));
    expect(await readFile(join(dir, 'records.out'))).toEqual(await readFile(input));
    expect((await stat(join(dir, 'records.custos'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'records.out'))).mode & 0o777).toBe(0o600);
  });

  it('a tampered container leaves no output file and no temporary file behind', async () => {
    const input = join(dir, 't.csv');
    await writeFile(input, s.randomBytes(50_000));
    await encryptFile(params(), input, join(dir, 't.custos'));
    const bytes = await readFile(join(dir, 't.custos'));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 1, bytes.length - 100); // inside the last chunk: earlier chunks verify and were written
    await writeFile(join(dir, 't-bad.custos'), bytes);
    const before = await readdir(dir);
    expect(await tagOf(decryptFile(keyFor(), join(dir, 't-bad.custos'), join(dir, 't.out')))).toBe(
      'TamperedCiphertext',
    );
    expect(await readdir(dir)).toEqual(before);
  });

  it('never overwrites: an existing output is refused and left untouched', async () => {
    const input = join(dir, 'o.csv');
    await writeFile(input, 'a,b\n1,2\n');
    await writeFile(join(dir, 'o.custos'), 'precious');
    expect(await tagOf(encryptFile(params(), input, join(dir, 'o.custos')))).toBe('OutputExists');
    expect(await readFile(join(dir, 'o.custos'), 'utf8')).toBe('precious');
  });

  it('a missing input is NotFound and creates nothing', async () => {
    const before = await readdir(dir);
    expect(
      await tagOf(encryptFile(params(), join(dir, 'nope.csv'), join(dir, 'nope.custos'))),
    ).toBe('NotFound');
    expect(await readdir(dir)).toEqual(before);
  });

  it('cancelling mid-way leaves nothing behind', async () => {
    const input = join(dir, 'big.bin');
    await writeFile(input, s.randomBytes(2_000_000));
    const controller = new AbortController();
    const before = await readdir(dir);
    const result = encryptFile(params(), input, join(dir, 'big.custos'), {
      signal: controller.signal,
      onProgress: (n) => {
        if (n > 500_000) controller.abort();
      },
    });
    expect(await tagOf(result)).toBe('Cancelled');
    expect(await readdir(dir)).toEqual(before);
  });
});

// A real full disk: a 1 MiB tmpfs. Mounting needs root (CI runs as root on these machines).
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canMount)('disk full (a 1 MiB tmpfs)', () => {
  let mnt: string;
  beforeAll(async () => {
    mnt = join(dir, 'small-disk');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  });
  afterAll(() => {
    execFileSync('umount', [mnt]);
  });

  it('encrypting onto a full disk fails with DiskFull and leaves the disk as it was', async () => {
    const input = join(dir, 'two-mib.bin');
    await writeFile(input, s.randomBytes(2 * 1024 * 1024));
    await writeFile(join(mnt, 'already-there.txt'), 'keep me');
    expect(await tagOf(encryptFile(params(), input, join(mnt, 'x.custos')))).toBe('DiskFull');
    expect(await readdir(mnt)).toEqual(['already-there.txt']);
    expect(await readFile(join(mnt, 'already-there.txt'), 'utf8')).toBe('keep me');
  });

  it('decrypting onto a full disk fails with DiskFull and leaves no partial plaintext', async () => {
    const input = join(dir, 'two-mib-2.bin');
    await writeFile(input, s.randomBytes(2 * 1024 * 1024));
    await encryptFile(params(), input, join(dir, 'two-mib-2.custos'));
    expect(
      await tagOf(decryptFile(keyFor(), join(dir, 'two-mib-2.custos'), join(mnt, 'plain.bin'))),
    ).toBe('DiskFull');
    expect(await readdir(mnt)).toEqual(['already-there.txt']);
  });
});
