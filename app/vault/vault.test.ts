import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.ts';
import { loadBackend } from '../crypto/index.ts';
import { KEYRING_FILE, Vault } from './vault.ts';

const PASS = 'correct horse battery staple';
let root: string;
let n = 0;
const fresh = () => join(root, `v${(n += 1)}`);
const opts = { kdf: 'interactive' as const };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-vault-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function tagOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'no error';
  } catch (e) {
    return e instanceof CustosError ? e.tag : `untyped: ${String(e)}`;
  }
}

async function editKeyring(dir: string, edit: (k: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, KEYRING_FILE);
  const k = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(k);
  await writeFile(path, JSON.stringify(k));
}

describe('vault', () => {
  it('creates, locks and reopens with the passphrase; dataset keys survive', async () => {
    const dir = fresh();
    const vault = await Vault.create(dir, PASS, opts);
    const { id } = await vault.addDataset('Cardiology cohort 2024');
    const key = Buffer.from(vault.datasetKey(id));
    vault.lock();
    expect(await tagOf(() => vault.datasetKey(id))).toBe('VaultLocked');
    const again = await Vault.open(dir, PASS, opts);
    expect(again.datasets()).toMatchObject([{ id, label: 'Cardiology cohort 2024' }]);
    expect(Buffer.from(again.datasetKey(id)).equals(key)).toBe(true);
    expect(
      ((await import('node:fs')).statSync(join(dir, KEYRING_FILE)).mode & 0o777).toString(8),
    ).toBe('600');
  });

  it('refuses a wrong passphrase, a weak one, an existing vault, a missing vault', async () => {
    const dir = fresh();
    await Vault.create(dir, PASS, opts);
    expect(await tagOf(Vault.open(dir, 'not the passphrase', opts))).toBe('WrongPassphrase');
    expect(await tagOf(Vault.create(fresh(), 'short', opts))).toBe('WeakPassphrase');
    expect(await tagOf(Vault.create(dir, PASS, opts))).toBe('VaultExists');
    expect(await tagOf(Vault.open(join(root, 'nothing-here'), PASS, opts))).toBe('VaultNotFound');
  });

  it('a container of another vault is UnknownDataset there', async () => {
    const a = await Vault.create(fresh(), PASS, opts);
    const b = await Vault.create(fresh(), PASS, opts);
    const { id } = await a.addDataset();
    expect(await tagOf(() => b.datasetKey(id))).toBe('UnknownDataset');
  });

  it('changing the passphrase keeps every dataset key and retires the old passphrase', async () => {
    const dir = fresh();
    const vault = await Vault.create(dir, PASS, opts);
    const { id } = await vault.addDataset();
    const key = Buffer.from(vault.datasetKey(id));
    await vault.changePassphrase('a completely new passphrase');
    expect(await tagOf(Vault.open(dir, PASS, opts))).toBe('WrongPassphrase');
    const reopened = await Vault.open(dir, 'a completely new passphrase', opts);
    expect(Buffer.from(reopened.datasetKey(id)).equals(key)).toBe(true);
  });

  it('the recovery kit opens the vault; typos, old kits and other vaults’ kits are refused', async () => {
    const dir = fresh();
    const vault = await Vault.create(dir, PASS, opts);
    const { id } = await vault.addDataset();
    expect(await tagOf(Vault.openWithRecoveryKey(dir, 'AAAAA', opts))).toBe('RecoveryKitInvalid');
    const first = await vault.createRecoveryKit();
    expect(first.key).toMatch(/^([0-9A-Z]{5}-){10}[0-9A-Z]{5}$/);
    expect(first.text).toContain(first.key);
    const viaKit = await Vault.openWithRecoveryKey(
      dir,
      first.key.toLowerCase().replaceAll('-', ' '),
      opts,
    );
    expect(Buffer.from(viaKit.datasetKey(id)).equals(Buffer.from(vault.datasetKey(id)))).toBe(true);
    const typo = first.key.slice(0, 3) + (first.key[3] === 'A' ? 'B' : 'A') + first.key.slice(4);
    expect(await tagOf(Vault.openWithRecoveryKey(dir, typo, opts))).toBe('RecoveryKitInvalid');
    const second = await vault.createRecoveryKit();
    expect(await tagOf(Vault.openWithRecoveryKey(dir, first.key, opts))).toBe('RecoveryKitInvalid');
    const other = await Vault.create(fresh(), PASS, opts);
    const otherKit = await other.createRecoveryKit();
    expect(await tagOf(Vault.openWithRecoveryKey(dir, otherKit.key, opts))).toBe(
      'RecoveryKitInvalid',
    );
    await (
      await Vault.openWithRecoveryKey(dir, second.key, opts)
    ).changePassphrase('restored passphrase 2026');
    expect(
      Buffer.from((await Vault.open(dir, 'restored passphrase 2026', opts)).datasetKey(id)).length,
    ).toBe(32);
  });

  it('a vault without a recovery kit says so', async () => {
    const dir = fresh();
    await Vault.create(dir, PASS, opts);
    const other = await Vault.create(fresh(), PASS, opts);
    expect(
      await tagOf(Vault.openWithRecoveryKey(dir, (await other.createRecoveryKit()).key, opts)),
    ).toBe('RecoveryNotSet');
  });
});

describe('keyring file: bad input', () => {
  it.each([
    ['half-written JSON', (t: string) => t.slice(0, t.length / 2), 'KeyringCorrupt'],
    ['empty file', () => '', 'KeyringCorrupt'],
    ['not JSON', () => 'hello', 'KeyringCorrupt'],
    [
      'a field removed',
      (t: string) => JSON.stringify({ ...JSON.parse(t), passphrase: undefined }),
      'KeyringCorrupt',
    ],
    [
      'an unknown field',
      (t: string) => JSON.stringify({ ...JSON.parse(t), extra: 1 }),
      'KeyringCorrupt',
    ],
    [
      'version 2',
      (t: string) => JSON.stringify({ ...JSON.parse(t), version: 2 }),
      'UnsupportedVersion',
    ],
  ] as const)('%s → %s', async (_name, damage, tag) => {
    const dir = fresh();
    await Vault.create(dir, PASS, opts);
    const path = join(dir, KEYRING_FILE);
    await writeFile(path, damage(await readFile(path, 'utf8')));
    expect(await tagOf(Vault.open(dir, PASS, opts))).toBe(tag);
  });

  it('a label edited outside Custos is caught by the keyring MAC', async () => {
    const dir = fresh();
    const vault = await Vault.create(dir, PASS, opts);
    await vault.addDataset('Oncology');
    await editKeyring(dir, (k) => {
      (k['datasets'] as { label: string }[])[0]!.label = 'Renamed';
    });
    expect(await tagOf(Vault.open(dir, PASS, opts))).toBe('KeyringCorrupt');
  });

  it.each([
    ['opslimit 1 (too weak)', { opslimit: 1 }, 'too-weak'],
    ['memlimit 8 MiB (too weak)', { memlimit: 8 * 1024 * 1024 }, 'too-weak'],
    ['opslimit 1000 (absurd)', { opslimit: 1000 }, 'too-expensive'],
    ['memlimit 64 GiB (absurd)', { memlimit: 64 * 1024 ** 3 }, 'too-expensive'],
  ] as const)(
    'KDF parameters %s are refused before any Argon2 work',
    async (_n, change, problem) => {
      const dir = fresh();
      await Vault.create(dir, PASS, opts);
      await editKeyring(dir, (k) => Object.assign(k['kdf'] as object, change));
      const started = performance.now();
      const error = await Vault.open(dir, PASS, opts).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CustosError);
      expect((error as CustosError).tag).toBe('KdfParametersOutOfBounds');
      expect((error as CustosError).details['problem']).toBe(problem);
      // 64 GiB or 1000 passes would take minutes or fail to allocate; the refusal is immediate.
      expect(performance.now() - started).toBeLessThan(5000);
    },
  );

  it('a keyring written with one sodium backend opens with the other', async () => {
    const dir = fresh();
    const native = await loadBackend('sodium-native');
    const wasm = await loadBackend('libsodium-wrappers-sumo');
    const vault = await Vault.create(dir, PASS, { ...opts, sodium: native });
    const { id } = await vault.addDataset();
    const reopened = await Vault.open(dir, PASS, { ...opts, sodium: wasm });
    expect(Buffer.from(reopened.datasetKey(id)).equals(Buffer.from(vault.datasetKey(id)))).toBe(
      true,
    );
  });

  it('the checked-in keyring vector opens with its passphrase and its recovery key', async () => {
    const vector = JSON.parse(
      await readFile(
        join(import.meta.dirname, '../../docs/format-vectors/keyring-v1.json'),
        'utf8',
      ),
    ) as {
      passphrase: string;
      recoveryKey: string;
      datasetId: string;
      datasetKey: string;
      keyring: unknown;
    };
    const dir = fresh();
    await (await import('node:fs/promises')).mkdir(dir);
    await writeFile(join(dir, KEYRING_FILE), JSON.stringify(vector.keyring));
    for (const vault of [
      await Vault.open(dir, vector.passphrase, opts),
      await Vault.openWithRecoveryKey(dir, vector.recoveryKey, opts),
    ]) {
      expect(Buffer.from(vault.datasetKey(vector.datasetId)).toString('hex')).toBe(
        vector.datasetKey,
      );
    }
  });
});

describe('crash safety', () => {
  it('kill -9 at random moments during keyring writes: the vault always opens, and every completed write is there', async () => {
    const dir = fresh();
    const [A, B] = ['crash passphrase A', 'crash passphrase B'];
    await Vault.create(dir, A, opts);
    const fixture = join(import.meta.dirname, 'testing', 'crash-writer.ts');
    const completed = new Set<string>();
    let kills = 0;
    for (let round = 0; round < 25; round += 1) {
      const child = spawn(process.execPath, [fixture, dir, A, B], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      // Wait until the child has written at least once, then kill it after a random extra delay.
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (out.includes('added ')) {
            setTimeout(resolve, Math.random() * 300);
            child.stdout.off('data', check);
          }
        };
        child.stdout.on('data', check);
        child.on('exit', () => resolve());
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r).once('close', r));
      kills += child.signalCode === 'SIGKILL' ? 1 : 0;
      for (const line of out.split('\n'))
        if (line.startsWith('added ')) completed.add(line.slice(6));
      const vault = await Vault.open(dir, A, opts).catch(() => Vault.open(dir, B, opts));
      const ids = new Set(vault.datasets().map((d) => d.id));
      for (const id of completed)
        expect(ids.has(id), `dataset ${id} written before the kill`).toBe(true);
      for (const d of vault.datasets()) expect(vault.datasetKey(d.id)).toHaveLength(32);
    }
    expect(kills).toBe(25);
    expect(completed.size).toBeGreaterThan(25);
    // Temporary files from interrupted writes are cleaned up on the next open.
    await Vault.open(dir, A, opts).catch(() => Vault.open(dir, B, opts));
    expect((await readdir(dir)).filter((f) => f.includes('custos-tmp'))).toEqual([]);
  }, 180_000);
});
