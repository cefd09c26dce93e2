/**
 * The vault's storage settings file: validation with the field named, persistence (atomic, 0600),
 * tokens kept out of the file (sealed with the vault key, or in a keychain), and all-or-nothing
 * changes when a write or the keychain fails. A real vault and libsodium throughout.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sodium } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { Vault } from '../vault/index.ts';
import type { NetworkSession } from './network.ts';
import {
  EMBEDDED_NODE_NAME,
  STORAGE_FILE,
  StorageSettingsFile,
  replicateOrRefuse,
  saveTokenlessSettings,
  storageBackends,
  type NewStorageBackend,
  type SecretStore,
} from './storage-settings.ts';

const TOKEN = 'eyJhbGciOi.secret-pinning-token.9f8e';
const PASSWORD = ' cluster pass:word 7c1e ';
let dir: string;
let vault: Vault;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-storage-'));
  vault = await Vault.create(join(dir, 'vault'), 'storage settings passphrase', {
    kdf: 'interactive',
  });
});
afterEach(async () => {
  vault.lock();
  await rm(dir, { recursive: true, force: true });
});

const fileOf = (keychain?: SecretStore): StorageSettingsFile =>
  new StorageSettingsFile({ dir: vault.dir, keychain, sodium });
const path = (): string => join(vault.dir, STORAGE_FILE);
const onDisk = (): Promise<string> => readFile(path(), 'utf8').catch(() => '(absent)');

/** A keychain held in memory, with switches to make its next save or clear fail. */
function memoryKeychain(): SecretStore & { secrets: Map<string, string>; failClear: boolean } {
  const secrets = new Map<string, string>();
  return {
    secrets,
    failClear: false,
    available: () => true,
    load: (ref) => Promise.resolve(secrets.get(ref) ?? null),
    save(ref, secret) {
      secrets.set(ref, secret);
      return Promise.resolve();
    },
    clear(ref) {
      if (this.failClear) return Promise.reject(new CustosError('Internal', 'keychain refused'));
      secrets.delete(ref);
      return Promise.resolve();
    },
  };
}

/** A refused field, as the form receives it. */
const fieldError = (field: string, problem: RegExp) => ({
  tag: 'UsageError',
  details: { field, problem: expect.stringMatching(problem) as unknown },
});

const hospital: NewStorageBackend = {
  kind: 'kubo',
  name: 'Hospital IPFS node',
  apiUrl: 'http://10.1.2.3:5001',
};
const service: NewStorageBackend = {
  kind: 'pinning-service',
  name: 'Pinning service',
  endpoint: 'https://pins.example.org/psa',
  token: TOKEN,
};
const cluster: NewStorageBackend = {
  kind: 'ipfs-cluster',
  name: 'Hospital network cluster',
  apiUrl: 'http://10.1.2.4:9094',
  replicationMin: 2,
  replicationMax: 3,
};
const guarded: NewStorageBackend = { ...cluster, name: 'Guarded cluster', user: 'custos' };

describe('storage settings', () => {
  it('start empty, and a kubo node added is kept in the vault folder (0600) for the next reader', async () => {
    expect(await fileOf().settings()).toMatchObject({ kubo: [], pinningServices: [] });
    await fileOf().add(vault, { ...hospital, name: '  Hospital IPFS node ' });
    expect((await stat(path())).mode & 0o777).toBe(0o600);
    const again = await fileOf().settings();
    expect(again.kubo).toEqual([{ name: 'Hospital IPFS node', apiUrl: 'http://10.1.2.3:5001' }]);
    expect(again.cidVersion).toBe(1);
  });

  it.each([
    ['ftp://10.1.2.3/', 'apiUrl', /http:\/\/ or https:\/\//],
    ['10.1.2.3:5001', 'apiUrl', /full address/],
    ['http://admin:pw@10.1.2.3:5001', 'apiUrl', /user name or password/],
  ])('refuses the kubo address %s as a field error, saving nothing', async (apiUrl, field, why) => {
    await expect(fileOf().add(vault, { ...hospital, apiUrl })).rejects.toMatchObject(
      fieldError(field, why),
    );
    expect(await onDisk()).toBe('(absent)');
  });

  it('refuses an empty name, a name taken (any case, the embedded node too), an empty token', async () => {
    await fileOf().add(vault, hospital);
    const before = await onDisk();
    const cases: [NewStorageBackend, string, RegExp][] = [
      [{ ...hospital, name: '   ' }, 'name', /give the backend a name/],
      [{ ...service, name: 'hospital ipfs NODE' }, 'name', /already called/],
      [{ ...hospital, name: EMBEDDED_NODE_NAME }, 'name', /already called/],
      [{ ...service, token: ' ' }, 'token', /access token/],
      [{ ...service, endpoint: 'file:///etc/passwd' }, 'endpoint', /http/],
    ];
    for (const [input, field, why] of cases)
      await expect(fileOf().add(vault, input)).rejects.toMatchObject(fieldError(field, why));
    expect(await onDisk()).toBe(before);
  });

  it('takes at most 10 of a kind (the 11th is refused, another kind still fits)', async () => {
    const storage = fileOf();
    for (let i = 1; i <= 10; i++)
      await storage.add(vault, {
        ...hospital,
        name: `Node ${i}`,
        apiUrl: `http://10.0.0.${i}:5001`,
      });
    await expect(storage.add(vault, { ...hospital, name: 'Node 11' })).rejects.toMatchObject(
      fieldError('kind', /^at most 10 kubo nodes/),
    );
    await storage.add(vault, service);
    expect((await storage.settings()).kubo).toHaveLength(10);
  });

  it('changes made at the same time are applied one after the other (none lost)', async () => {
    const storage = fileOf();
    await Promise.all(
      [1, 2, 3].map((i) =>
        storage.add(vault, { ...hospital, name: `Node ${i}`, apiUrl: `http://10.0.0.${i}:5001` }),
      ),
    );
    expect((await fileOf().settings()).kubo.map((k) => k.name).sort()).toEqual([
      'Node 1',
      'Node 2',
      'Node 3',
    ]);
  });

  it('without a keychain, seals the token with the vault key: never in clear, opened only unlocked', async () => {
    await fileOf().add(vault, service);
    const text = await onDisk();
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(Buffer.from(TOKEN).toString('base64'));
    expect(fileOf().tokensKeptIn()).toBe('vault');
    const config = await fileOf().config(vault);
    const ref = config.settings.pinningServices[0]?.tokenRef ?? '';
    expect(ref).toMatch(/^pinning-service\//);
    expect(await config.tokenFor(ref)).toBe(TOKEN);

    // Reopened with the passphrase (a new process): still opens. Locked: refused.
    const reopened = await Vault.open(vault.dir, 'storage settings passphrase');
    expect(await (await fileOf().config(reopened)).tokenFor(ref)).toBe(TOKEN);
    reopened.lock();
    await expect((await fileOf().config(reopened)).tokenFor(ref)).rejects.toMatchObject({
      tag: 'VaultLocked',
    });

    // A sealed token changed on disk does not authenticate.
    const file = JSON.parse(text) as { sealedTokens: Record<string, { ciphertext: string }> };
    const sealed = file.sealedTokens[ref];
    if (!sealed) throw new Error('no sealed token');
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    sealed.ciphertext = bytes.toString('base64');
    await writeFile(path(), JSON.stringify(file));
    await expect((await fileOf().config(vault)).tokenFor(ref)).rejects.toMatchObject({
      tag: 'KeyringCorrupt',
    });
  });

  it('with a keychain, keeps the token there under its tokenRef, and removing clears both', async () => {
    const keychain = memoryKeychain();
    await fileOf(keychain).add(vault, service);
    const text = await onDisk();
    expect(text).not.toContain(TOKEN);
    const config = await fileOf(keychain).config(vault);
    const ref = config.settings.pinningServices[0]?.tokenRef ?? '';
    expect([...keychain.secrets]).toEqual([[ref, TOKEN]]);
    expect(JSON.parse(text)).toMatchObject({ sealedTokens: {}, sealingKey: null });
    expect(await config.tokenFor(ref)).toBe(TOKEN);

    await fileOf(keychain).remove('Pinning service');
    expect(keychain.secrets.size).toBe(0);
    expect((await fileOf(keychain).settings()).pinningServices).toEqual([]);
  });

  it('all or nothing: a settings write that fails takes the token back out of the keychain', async () => {
    const keychain = memoryKeychain();
    const save = keychain.save.bind(keychain);
    // The file's place is taken by a folder between the read and the write: the rename fails.
    keychain.save = async (ref, secret) => {
      await save(ref, secret);
      await mkdir(join(path(), 'in-the-way'), { recursive: true });
    };
    await expect(fileOf(keychain).add(vault, service)).rejects.toMatchObject({
      tag: 'FileSystemError',
    });
    expect(keychain.secrets.size).toBe(0);
    // No half-written settings file left behind either.
    expect((await readdir(vault.dir)).filter((f) => f.includes(STORAGE_FILE))).toEqual([
      STORAGE_FILE, // the folder that was in the way
    ]);
  });

  it('all or nothing: a keychain that refuses to clear leaves the service configured', async () => {
    const keychain = memoryKeychain();
    await fileOf(keychain).add(vault, service);
    const before = await onDisk();
    keychain.failClear = true;
    await expect(fileOf(keychain).remove('Pinning service')).rejects.toMatchObject({
      message: 'keychain refused',
    });
    expect(await onDisk()).toBe(before);
    expect(keychain.secrets.size).toBe(1);
  });

  it('removing: the sealed token goes with it; the embedded node and unknown names are refused', async () => {
    await fileOf().add(vault, hospital);
    await fileOf().add(vault, service);
    await fileOf().remove('Pinning service');
    expect(JSON.parse(await onDisk())).toMatchObject({ sealedTokens: {} });
    await fileOf().remove('Hospital IPFS node');
    expect(await fileOf().settings()).toMatchObject({ kubo: [], pinningServices: [] });
    await expect(fileOf().remove(EMBEDDED_NODE_NAME)).rejects.toMatchObject(
      fieldError('name', /cannot be removed/),
    );
    await expect(fileOf().remove('Nowhere')).rejects.toMatchObject({ tag: 'NotFound' });
  });

  it('a damaged file is an error, never "no backends" (a publish would skip them)', async () => {
    await fileOf().add(vault, hospital);
    await writeFile(path(), '{"format":"custos-storage","version":1,"settings":{"kubo":[{');
    await expect(fileOf().settings()).rejects.toMatchObject({ tag: 'FileUnreadable' });
    await expect(fileOf().add(vault, service)).rejects.toMatchObject({ tag: 'FileUnreadable' });
  });

  it('a host can prepare a new vault with kubo nodes, never with a token', async () => {
    const fresh = join(dir, 'new-vault');
    const settings = {
      kubo: [],
      pinningServices: [],
      clusters: [],
      cidVersion: 1 as const,
      pinTimeoutSeconds: 60,
    };
    await saveTokenlessSettings(fresh, {
      ...settings,
      kubo: [{ name: 'Hospital', apiUrl: 'http://127.0.0.1:5001' }],
    });
    const read = new StorageSettingsFile({ dir: fresh, sodium });
    expect((await read.settings()).kubo).toHaveLength(1);
    await expect(
      saveTokenlessSettings(fresh, {
        ...settings,
        pinningServices: [{ name: 'P', endpoint: 'https://p.example', tokenRef: 'x' }],
      }),
    ).rejects.toMatchObject({ tag: 'UsageError' });
  });
});

describe('IPFS Clusters in the storage settings', () => {
  it('a cluster is kept with the copies asked for; without a user nothing secret is stored', async () => {
    await fileOf().add(vault, { ...cluster, user: ' ', password: '' });
    expect((await fileOf().settings()).clusters).toEqual([
      {
        name: 'Hospital network cluster',
        apiUrl: 'http://10.1.2.4:9094',
        replicationMin: 2,
        replicationMax: 3,
      },
    ]);
    expect(JSON.parse(await onDisk())).toMatchObject({ sealedTokens: {}, sealingKey: null });
  });

  it.each([
    [{ replicationMin: 0 }, 'replicationMin', /^keep at least 1 copy$/],
    [{ replicationMin: -2 }, 'replicationMin', /^keep at least 1 copy$/],
    [{ replicationMin: 1.5 }, 'replicationMin', /whole number/],
    [{ replicationMin: 51, replicationMax: 51 }, 'replicationMin', /^at most 50 copies$/],
    [{ replicationMax: 51 }, 'replicationMax', /^at most 50 copies$/],
    [{ replicationMin: 3, replicationMax: 2 }, 'replicationMax', /cannot be fewer .*\(3\)/],
    [{ replicationMax: Number.NaN }, 'replicationMax', /whole number/],
    [{ user: 'custos' }, 'password', /password/],
    [{ user: 'custos', password: '   ' }, 'password', /password/],
    [{ password: PASSWORD }, 'user', /user name/],
    [{ user: 'cus:tos', password: PASSWORD }, 'user', /“:”/],
    [{ user: 'u'.repeat(101), password: PASSWORD }, 'user', /100 characters/],
    [{ apiUrl: 'http://admin:pw@10.1.2.4:9094' }, 'apiUrl', /user name or password/],
    [{ name: 'hospital IPFS node' }, 'name', /already called/],
  ] as const)('refuses %o as a field error on %s, saving nothing', async (change, field, why) => {
    await fileOf().add(vault, hospital);
    const before = await onDisk();
    await expect(fileOf().add(vault, { ...cluster, ...change })).rejects.toMatchObject(
      fieldError(field, why),
    );
    expect(await onDisk()).toBe(before);
  });

  it('a cluster’s name is taken for the other kinds too; at most 10 clusters', async () => {
    const storage = fileOf();
    for (let i = 1; i <= 10; i++) await storage.add(vault, { ...cluster, name: `Cluster ${i}` });
    await expect(storage.add(vault, { ...cluster, name: 'Cluster 11' })).rejects.toMatchObject(
      fieldError('kind', /^at most 10 IPFS Clusters/),
    );
    await expect(storage.add(vault, { ...hospital, name: 'CLUSTER 3' })).rejects.toMatchObject(
      fieldError('name', /already called/),
    );
    await storage.add(vault, hospital);
    expect((await storage.settings()).clusters).toHaveLength(10);
  });

  it('without a keychain, the password is sealed with the vault key, kept as typed, and goes with the cluster', async () => {
    await fileOf().add(vault, { ...guarded, password: PASSWORD });
    const text = await onDisk();
    expect(text).not.toContain(PASSWORD.trim());
    const config = await fileOf().config(vault);
    const saved = config.settings.clusters[0];
    expect(saved).toMatchObject({
      user: 'custos',
      tokenRef: expect.stringMatching(/^ipfs-cluster\//) as unknown,
    });
    expect(await config.tokenFor(saved?.tokenRef ?? '')).toBe(PASSWORD);
    await fileOf().remove('Guarded cluster');
    expect(JSON.parse(await onDisk())).toMatchObject({
      sealedTokens: {},
      settings: { clusters: [] },
    });
  });

  it('with a keychain, the password goes there; removing clears it; a missing one names the cluster', async () => {
    const keychain = memoryKeychain();
    await fileOf(keychain).add(vault, { ...guarded, password: PASSWORD });
    expect(await onDisk()).not.toContain(PASSWORD.trim());
    const config = await fileOf(keychain).config(vault);
    const ref = config.settings.clusters[0]?.tokenRef ?? '';
    expect([...keychain.secrets]).toEqual([[ref, PASSWORD]]);

    // Another computer's keychain does not have it.
    await expect(
      (await fileOf(memoryKeychain()).config(vault)).tokenFor(ref),
    ).rejects.toMatchObject({
      tag: 'NotFound',
      message: expect.stringContaining('IPFS Cluster “Guarded cluster”') as unknown,
    });

    keychain.failClear = true;
    const before = await onDisk();
    await expect(fileOf(keychain).remove('Guarded cluster')).rejects.toMatchObject({
      message: 'keychain refused',
    });
    expect(await onDisk()).toBe(before);
    keychain.failClear = false;
    await fileOf(keychain).remove('Guarded cluster');
    expect(keychain.secrets.size).toBe(0);
    expect((await fileOf(keychain).settings()).clusters).toEqual([]);
  });

  it('Settings lists a cluster with its copies before the network runs; a publish with only a cluster is not skipped', async () => {
    await fileOf().add(vault, cluster);
    const config = await fileOf().config(vault);
    expect((await storageBackends(null, config)).at(-1)).toEqual({
      name: 'Hospital network cluster',
      kind: 'ipfs-cluster',
      address: 'http://10.1.2.4:9094',
      health: 'not-running',
      detail: 'Checked once the network runs.',
      copies: { min: 2, max: 3 },
    });
    // A network profile that cannot copy refuses rather than registering without the cluster.
    const noCopies = { replicate: undefined } as unknown as NetworkSession;
    await expect(replicateOrRefuse(noCopies, config, CID.parse('bafkqaaa'))).rejects.toMatchObject({
      tag: 'StorageUnavailable',
    });
  });

  it('a host cannot prepare a cluster with a password (it needs the vault or a keychain)', async () => {
    const fresh = join(dir, 'new-vault');
    const settings = {
      kubo: [],
      pinningServices: [],
      cidVersion: 1 as const,
      pinTimeoutSeconds: 60,
    };
    const open = {
      name: 'C',
      apiUrl: 'http://127.0.0.1:9094',
      replicationMin: 1,
      replicationMax: 2,
    };
    await saveTokenlessSettings(fresh, { ...settings, clusters: [open] });
    expect((await new StorageSettingsFile({ dir: fresh, sodium }).settings()).clusters).toEqual([
      open,
    ]);
    await expect(
      saveTokenlessSettings(fresh, {
        ...settings,
        clusters: [{ ...open, user: 'u', tokenRef: 'x' }],
      }),
    ).rejects.toMatchObject({ tag: 'UsageError' });
  });
});

describe('CID version and pin wait in the storage settings', () => {
  it('are saved and read back by the next reader, the backends (and sealed token) kept', async () => {
    await fileOf().add(vault, hospital);
    await fileOf().add(vault, service);
    expect(await fileOf().settings()).toMatchObject({ cidVersion: 1, pinTimeoutSeconds: 600 });
    await fileOf().setOptions({ cidVersion: 0, pinTimeoutSeconds: 3600 });
    const again = await fileOf().settings();
    expect(again).toMatchObject({ cidVersion: 0, pinTimeoutSeconds: 3600 });
    expect(again.kubo.map((k) => k.name)).toEqual(['Hospital IPFS node']);
    expect(again.pinningServices.map((p) => p.name)).toEqual(['Pinning service']);
    expect(await (await fileOf().config(vault)).tokenFor(again.pinningServices[0]!.tokenRef)).toBe(
      TOKEN,
    );
    expect((await stat(path())).mode & 0o777).toBe(0o600);
  });

  it.each([
    [{ cidVersion: 1, pinTimeoutSeconds: 9 }, 'pinTimeoutSeconds'],
    [{ cidVersion: 1, pinTimeoutSeconds: 86_401 }, 'pinTimeoutSeconds'],
    [{ cidVersion: 1, pinTimeoutSeconds: 60.5 }, 'pinTimeoutSeconds'],
    [{ cidVersion: 1, pinTimeoutSeconds: Number.NaN }, 'pinTimeoutSeconds'],
    [{ cidVersion: 2, pinTimeoutSeconds: 600 }, 'cidVersion'],
  ])('refuses %o naming the field, with nothing half-saved', async (input, field) => {
    await fileOf().setOptions({ cidVersion: 0, pinTimeoutSeconds: 120 });
    const before = await onDisk();
    await expect(fileOf().setOptions(input as never)).rejects.toMatchObject(
      fieldError(field, field === 'cidVersion' ? /CID version/ : /between 10 seconds and 24 hours/),
    );
    expect(await onDisk()).toBe(before);
  });

  it('the bounds themselves are accepted; a change queued with an add loses neither', async () => {
    const storage = fileOf();
    await storage.setOptions({ cidVersion: 1, pinTimeoutSeconds: 10 });
    expect((await storage.settings()).pinTimeoutSeconds).toBe(10);
    await Promise.all([
      storage.add(vault, hospital),
      storage.setOptions({ cidVersion: 0, pinTimeoutSeconds: 86_400 }),
    ]);
    expect(await fileOf().settings()).toMatchObject({
      cidVersion: 0,
      pinTimeoutSeconds: 86_400,
      kubo: [{ name: 'Hospital IPFS node' }],
    });
  });
});
