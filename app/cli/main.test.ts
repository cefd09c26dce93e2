import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { bufferIo } from './testing.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/custos.js');
const PASS = 'correct horse battery staple';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string> = {}) {
  const io = bufferIo({ CUSTOS_PASSPHRASE: PASS, ...env });
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('custos CLI', () => {
  it('init → encrypt → decrypt round-trips and prints the dataset id', async () => {
    const vault = join(dir, 'vault');
    expect((await cli(['init', '--vault', vault, '--kdf', 'interactive'])).code).toBe(0);
    await writeFile(join(dir, 'patients.csv'), 'id,age,diagnosis\n1,54,I21\n2,61,I25\n');
    const enc = await cli([
      'encrypt',
      join(dir, 'patients.csv'),
      join(dir, 'patients.custos'),
      '--vault',
      vault,
    ]);
    expect(enc.code).toBe(0);
    expect(enc.out).toMatch(/^[0-9a-f]{32}\n$/);
    const dec = await cli([
      'decrypt',
      join(dir, 'patients.custos'),
      join(dir, 'patients.out.csv'),
      '--vault',
      vault,
    ]);
    expect(dec.code).toBe(0);
    expect(await readFile(join(dir, 'patients.out.csv'), 'utf8')).toBe(
      'id,age,diagnosis\n1,54,I21\n2,61,I25\n',
    );
  });

  it('a tampered container: exit 1, one typed line, no output file', async () => {
    const vault = join(dir, 'vault');
    const bytes = await readFile(join(dir, 'patients.custos'));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0x40, bytes.length - 3);
    await writeFile(join(dir, 'bad.custos'), bytes);
    const r = await cli([
      'decrypt',
      join(dir, 'bad.custos'),
      join(dir, 'bad.csv'),
      '--vault',
      vault,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^custos: TamperedCiphertext: [^\n]+\n$/);
    expect(existsSync(join(dir, 'bad.csv'))).toBe(false);
  });

  it('wrong passphrase, existing output and unknown version each get their one-line reason', async () => {
    const vault = join(dir, 'vault');
    const wrong = await cli(
      ['decrypt', join(dir, 'patients.custos'), join(dir, 'x.csv'), '--vault', vault],
      {
        CUSTOS_PASSPHRASE: 'not the right passphrase',
      },
    );
    expect([wrong.code, wrong.err.split(':')[1]?.trim()]).toEqual([1, 'WrongPassphrase']);
    const exists = await cli([
      'decrypt',
      join(dir, 'patients.custos'),
      join(dir, 'patients.csv'),
      '--vault',
      vault,
    ]);
    expect([exists.code, exists.err.split(':')[1]?.trim()]).toEqual([1, 'OutputExists']);
    const bytes = await readFile(join(dir, 'patients.custos'));
    bytes[9] = 9;
    await writeFile(join(dir, 'v9.custos'), bytes);
    const v9 = await cli([
      'decrypt',
      join(dir, 'v9.custos'),
      join(dir, 'v9.csv'),
      '--vault',
      vault,
    ]);
    expect([v9.code, v9.err.split(':')[1]?.trim()]).toEqual([1, 'UnsupportedVersion']);
  });

  it('a container from another vault is refused with UnknownDataset', async () => {
    const other = join(dir, 'other-vault');
    expect((await cli(['init', '--vault', other, '--kdf', 'interactive'])).code).toBe(0);
    const r = await cli([
      'decrypt',
      join(dir, 'patients.custos'),
      join(dir, 'o.csv'),
      '--vault',
      other,
    ]);
    expect([r.code, r.err.split(':')[1]?.trim()]).toEqual([1, 'UnknownDataset']);
  });

  it('a failed encryption leaves no container and no orphan key in the vault', async () => {
    const vault = join(dir, 'vault');
    const before = (await readFile(join(vault, 'keyring.json'), 'utf8')).match(/"id"/g)?.length;
    const r = await cli([
      'encrypt',
      join(dir, 'missing.csv'),
      join(dir, 'm.custos'),
      '--vault',
      vault,
    ]);
    expect([r.code, r.err.split(':')[1]?.trim()]).toEqual([1, 'NotFound']);
    expect((await readFile(join(vault, 'keyring.json'), 'utf8')).match(/"id"/g)?.length).toBe(
      before,
    );
  });

  it('recovery export + restore sets a new passphrase that opens the same datasets', async () => {
    const vault = join(dir, 'vault');
    expect(
      (await cli(['recovery', 'export', '--vault', vault, '--out', join(dir, 'kit.txt')])).code,
    ).toBe(0);
    const restored = await cli(
      ['recovery', 'restore', '--vault', vault, '--kit', join(dir, 'kit.txt')],
      {
        CUSTOS_PASSPHRASE: '',
        CUSTOS_NEW_PASSPHRASE: 'the passphrase after recovery',
      },
    );
    expect(restored.code).toBe(0);
    const dec = await cli(
      ['decrypt', join(dir, 'patients.custos'), join(dir, 'after.csv'), '--vault', vault],
      {
        CUSTOS_PASSPHRASE: 'the passphrase after recovery',
      },
    );
    expect(dec.code).toBe(0);
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['decrypt', 'only-one-arg', '--vault', dir])).code).toBe(2);
    expect((await cli(['init'])).code).toBe(2);
    expect((await cli(['init', '--vault', join(dir, 'x'), '--kdf', 'none'])).code).toBe(2);
  });

  it('the custos command works when run directly by an older system Node (re-executes on Node 22)', async () => {
    const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
    const node = systemNode ?? process.execPath;
    const { stdout } = await run(node, [BIN, '--help']);
    expect(stdout).toContain('usage: custos <command>');
    const out = join(dir, 'shim');
    await run(node, [BIN, 'init', '--vault', out, '--kdf', 'interactive'], {
      env: { ...process.env, CUSTOS_PASSPHRASE: PASS },
    });
    expect(await readdir(out)).toContain('keyring.json');
  });
});
