/**
 * The vault's remote IPFS backends (app/ipfs `StorageSettings`), edited from Settings and kept in
 * `<vault>/storage.json` (written atomically, 0600). A pinning service's access token and an IPFS
 * Cluster's REST API password are secrets and never sit in that file in clear: it goes to the OS keychain when the host has one
 * (`SecretStore`, Electron safeStorage), otherwise it is sealed in the file with a key wrapped by
 * the vault key (docs/decisions/004-storage-tokens-without-a-keychain.md). The settings are read
 * again at every publish and health check, so a change needs no restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { DatasetCopy } from '../api/contract.ts';
import type { StorageBackendHealth } from '../api/index.ts';
import type { SodiumBackend } from '../crypto/index.ts';
import { CustosError, fromFsError } from '../errors/index.ts';
import { writeFileAtomic } from '../files/index.ts';
import {
  StorageSettingsSchema,
  parseStorageSettings,
  type StorageSettings,
} from '../ipfs/index.ts';
import type { Vault } from '../vault/index.ts';
import type { NetworkSession, StorageConfig } from './network.ts';

/**
 * Secrets kept by the operating system's keychain (Electron `safeStorage`), one per reference —
 * the same keychain as "remember on this device" (`RememberStore`), for pinning-service tokens.
 */
export interface SecretStore {
  /** Whether the OS offers real encryption here (on Linux, not the "basic_text" fallback). */
  available(): boolean;
  /** The secret saved under `ref`, or null. */
  load(ref: string): Promise<string | null>;
  save(ref: string, secret: string): Promise<void>;
  clear(ref: string): Promise<void>;
}

/** What the steward adds in Settings. */
export type NewStorageBackend =
  | { readonly kind: 'kubo'; readonly name: string; readonly apiUrl: string }
  | {
      readonly kind: 'pinning-service';
      readonly name: string;
      readonly endpoint: string;
      readonly token: string;
    }
  | {
      readonly kind: 'ipfs-cluster';
      readonly name: string;
      readonly apiUrl: string;
      /** "Keep at least this many copies" (cluster replication min) … */
      readonly replicationMin: number;
      /** … "and at most this many" (replication max). */
      readonly replicationMax: number;
      /** REST API basic auth: both, or neither (empty counts as absent). */
      readonly user?: string | undefined;
      readonly password?: string | undefined;
    };

export const STORAGE_FILE = 'storage.json';
/** The embedded node's name in Settings; no remote backend may take it. */
export const EMBEDDED_NODE_NAME = 'Embedded IPFS node (in this app)';
const MAX_PER_KIND = 10;
const MAX_NAME = 80;
const MAX_TOKEN = 4096;
const MAX_USER = 100;
/** The most copies a cluster may be asked to keep (app/ipfs settings allow 1–50). */
export const MAX_COPIES = 50;
const KIND_WORDS = {
  kubo: 'kubo nodes',
  'pinning-service': 'pinning services',
  'ipfs-cluster': 'IPFS Clusters',
} as const;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const StorageFile = z
  .object({
    format: z.literal('custos-storage'),
    version: z.literal(1),
    settings: z.unknown(),
    /** The keyring entry whose key seals tokens here (only where the host has no keychain). */
    sealingKey: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .nullable(),
    sealedTokens: z.record(z.string().max(200), z.object({ nonce: base64, ciphertext: base64 })),
  })
  .strict();
type StorageFile = Omit<z.output<typeof StorageFile>, 'settings'> & { settings: StorageSettings };

const EMPTY: StorageFile = {
  format: 'custos-storage',
  version: 1,
  settings: parseStorageSettings({}),
  sealingKey: null,
  sealedTokens: {},
};

const serialized = (file: StorageFile): string => `${JSON.stringify(file, null, 2)}\n`;

/** A refused field: the UI shows `problem` next to `field`. */
function fieldError(field: string, problem: string): CustosError {
  return new CustosError('UsageError', `${field}: ${problem}`, { details: { field, problem } });
}

function checkUrl(field: string, value: string): string {
  const url = value.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fieldError(field, 'enter a full address, such as https://ipfs.example.org:5001');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw fieldError(field, 'the address must start with http:// or https://');
  // The settings file is not secret: credentials in a URL would be written to it in clear.
  if (parsed.username || parsed.password)
    throw fieldError(field, 'the address must not contain a user name or password');
  return url;
}

/** A number of copies the cluster keeps (1–50, a whole number). */
function checkCopies(field: string, value: number): number {
  if (!Number.isInteger(value)) throw fieldError(field, 'enter a whole number of copies');
  if (value < 1) throw fieldError(field, 'keep at least 1 copy');
  if (value > MAX_COPIES) throw fieldError(field, `at most ${MAX_COPIES} copies`);
  return value;
}

/** A cluster's REST API credentials: both or neither; the password is kept as typed. */
function checkBasicAuth(
  user: string | undefined,
  password: string | undefined,
): { user: string; password: string } | null {
  const name = user?.trim() ?? '';
  const secret = password ?? '';
  if (name === '' && secret === '') return null;
  if (name === '') throw fieldError('user', 'enter the user name that goes with the password');
  if (secret.trim() === '') throw fieldError('password', 'enter the password of this user');
  if (name.length > MAX_USER) throw fieldError('user', `at most ${MAX_USER} characters`);
  // Basic auth sends "user:password": a colon in the user name would cut it in the wrong place.
  if (name.includes(':')) throw fieldError('user', 'a user name cannot contain “:”');
  if (secret.length > MAX_TOKEN) throw fieldError('password', `at most ${MAX_TOKEN} characters`);
  return { user: name, password: secret };
}

/**
 * Checks a backend the steward wants to add against the current settings.
 * @throws UsageError with `details.field` (name, apiUrl, endpoint, token, replicationMin,
 *   replicationMax, user, password, kind) and a sentence.
 */
export function checkNewBackend(
  current: StorageSettings,
  input: NewStorageBackend,
): NewStorageBackend {
  const name = input.name.trim();
  if (name === '') throw fieldError('name', 'give the backend a name');
  if (name.length > MAX_NAME) throw fieldError('name', `at most ${MAX_NAME} characters`);
  const names = [...current.kubo, ...current.pinningServices, ...current.clusters].map(
    (b) => b.name,
  );
  if ([EMBEDDED_NODE_NAME, ...names].some((n) => n.toLowerCase() === name.toLowerCase()))
    throw fieldError('name', `a backend is already called “${name}”: choose another name`);
  const count = {
    kubo: current.kubo,
    'pinning-service': current.pinningServices,
    'ipfs-cluster': current.clusters,
  }[input.kind].length;
  if (count >= MAX_PER_KIND)
    throw fieldError(
      'kind',
      `at most ${MAX_PER_KIND} ${KIND_WORDS[input.kind]}: remove one before adding another`,
    );
  if (input.kind === 'kubo')
    return { kind: 'kubo', name, apiUrl: checkUrl('apiUrl', input.apiUrl) };
  if (input.kind === 'ipfs-cluster') {
    const apiUrl = checkUrl('apiUrl', input.apiUrl);
    const replicationMin = checkCopies('replicationMin', input.replicationMin);
    const replicationMax = checkCopies('replicationMax', input.replicationMax);
    if (replicationMax < replicationMin)
      throw fieldError(
        'replicationMax',
        `the most copies cannot be fewer than the least (${replicationMin})`,
      );
    const auth = checkBasicAuth(input.user, input.password);
    return { kind: 'ipfs-cluster', name, apiUrl, replicationMin, replicationMax, ...auth };
  }
  const endpoint = checkUrl('endpoint', input.endpoint);
  const token = input.token.trim();
  if (token === '') throw fieldError('token', 'enter the access token the service gave you');
  if (token.length > MAX_TOKEN) throw fieldError('token', `at most ${MAX_TOKEN} characters`);
  return { kind: 'pinning-service', name, endpoint, token };
}

/** The two storage settings that are not backends: CID version and how long to wait for a pin. */
export interface StorageOptions {
  /** kubo `--cid-version` of new datasets; only CIDv1 lets publish reference the container. */
  readonly cidVersion: 0 | 1;
  /** How long publish waits for a pinning service or a cluster before PinTimeout. */
  readonly pinTimeoutSeconds: number;
}
/** The pin wait the settings allow (app/ipfs `StorageSettingsSchema`): 10 s to a day. */
export const PIN_TIMEOUT_SECONDS = { min: 10, max: 86_400 } as const;

/**
 * Checks the CID version and pin wait the steward wants.
 * @throws UsageError with `details.field` (cidVersion, pinTimeoutSeconds) and a sentence.
 */
export function checkStorageOptions(input: StorageOptions): StorageOptions {
  const { cidVersion, pinTimeoutSeconds: seconds } = input;
  if (cidVersion !== 0 && cidVersion !== 1)
    throw fieldError('cidVersion', 'choose CID version 1 or 0');
  if (
    !Number.isInteger(seconds) ||
    seconds < PIN_TIMEOUT_SECONDS.min ||
    seconds > PIN_TIMEOUT_SECONDS.max
  )
    throw fieldError('pinTimeoutSeconds', 'wait between 10 seconds and 24 hours (1440 minutes)');
  return { cidVersion, pinTimeoutSeconds: seconds };
}

/**
 * A vault's storage settings file and the tokens it names. One per service; changes are
 * serialised, and each one is all or nothing (settings file and token both, or neither).
 */
export class StorageSettingsFile {
  readonly #path: string;
  readonly #keychain: () => SecretStore | null;
  readonly #sodium: () => Promise<SodiumBackend>;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: {
    dir: string;
    /** The host's keychain, if any (asked each time: it may become available later). */
    keychain?: SecretStore | undefined;
    sodium: () => Promise<SodiumBackend>;
  }) {
    this.#path = join(options.dir, STORAGE_FILE);
    const keychain = options.keychain;
    this.#keychain = () => (keychain?.available() ? keychain : null);
    this.#sodium = options.sodium;
  }

  /** Where new tokens go: the OS keychain, or sealed in the vault folder with the vault key. */
  tokensKeptIn(): 'keychain' | 'vault' {
    return this.#keychain() ? 'keychain' : 'vault';
  }

  /**
   * The stored settings (no backends when the file is absent).
   * @throws FileUnreadable when the file is damaged — never "no backends", which would let a
   *   publish skip a backend the steward configured; FileSystemError when it cannot be read.
   */
  async settings(): Promise<StorageSettings> {
    return (await this.#read()).settings;
  }

  async #read(): Promise<StorageFile> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY;
      throw fromFsError(error, this.#path);
    }
    try {
      const file = StorageFile.parse(JSON.parse(text));
      return { ...file, settings: parseStorageSettings(file.settings) };
    } catch (error) {
      throw new CustosError(
        'FileUnreadable',
        `${STORAGE_FILE} in the vault folder is damaged: restore it from a backup or remove it and add the backends again`,
        { cause: error, details: { path: this.#path } },
      );
    }
  }

  async #write(file: StorageFile): Promise<void> {
    const checked = StorageSettingsSchema.safeParse(file.settings);
    if (!checked.success)
      throw new CustosError('UsageError', checked.error.issues[0]?.message ?? 'invalid settings');
    await writeFileAtomic(this.#path, serialized(file));
  }

  #serial<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(change);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Adds a kubo node, a pinning service or an IPFS Cluster (a token or password to the keychain,
   * or sealed with the vault).
   * @throws UsageError with `details.field` for bad input; VaultLocked; the file system's errors
   *   (then nothing was saved).
   */
  add(vault: Vault, input: NewStorageBackend): Promise<void> {
    return this.#serial(async () => {
      const file = await this.#read();
      const backend = checkNewBackend(file.settings, input);
      const tokenRef = `${backend.kind}/${randomBytes(8).toString('hex')}`;
      const { name } = backend;
      const current = file.settings;
      if (backend.kind === 'kubo')
        return this.#write({
          ...file,
          settings: { ...current, kubo: [...current.kubo, { name, apiUrl: backend.apiUrl }] },
        });
      if (backend.kind === 'pinning-service')
        return this.#withSecret(vault, file, tokenRef, backend.token, {
          ...current,
          pinningServices: [
            ...current.pinningServices,
            { name, endpoint: backend.endpoint, tokenRef },
          ],
        });
      const { apiUrl, replicationMin, replicationMax, user, password } = backend;
      const cluster = { name, apiUrl, replicationMin, replicationMax };
      if (user === undefined || password === undefined)
        return this.#write({
          ...file,
          settings: { ...current, clusters: [...current.clusters, cluster] },
        });
      return this.#withSecret(vault, file, tokenRef, password, {
        ...current,
        clusters: [...current.clusters, { ...cluster, user, tokenRef }],
      });
    });
  }

  /** Writes `settings`, which name `secret` by `ref`: both saved, or neither (decision 004). */
  async #withSecret(
    vault: Vault,
    file: StorageFile,
    ref: string,
    secret: string,
    settings: StorageSettings,
  ): Promise<void> {
    const keychain = this.#keychain();
    if (!keychain)
      return this.#write(await this.#sealed(vault, { ...file, settings }, ref, secret));
    await keychain.save(ref, secret);
    try {
      await this.#write({ ...file, settings });
    } catch (error) {
      await keychain.clear(ref).catch(() => undefined);
      throw error;
    }
  }

  /** `file` with `token` sealed under `ref` (a sealing key is made in the keyring the first time). */
  async #sealed(vault: Vault, file: StorageFile, ref: string, token: string): Promise<StorageFile> {
    const s = await this.#sodium();
    const sealingKey = file.sealingKey ?? (await vault.addDataset('storage settings: tokens')).id;
    const key = vault.datasetKey(sealingKey);
    const nonce = s.randomBytes(24);
    const ciphertext = s.aeadEncrypt(Buffer.from(token, 'utf8'), tokenAd(ref), nonce, key);
    s.memzero(key);
    return {
      ...file,
      sealingKey,
      sealedTokens: {
        ...file.sealedTokens,
        [ref]: {
          nonce: Buffer.from(nonce).toString('base64'),
          ciphertext: Buffer.from(ciphertext).toString('base64'),
        },
      },
    };
  }

  /**
   * Saves the CID version and pin wait (the backends and tokens stay as they are).
   * @throws UsageError with `details.field` for bad input; the file system's errors (then nothing
   *   was saved).
   */
  setOptions(input: StorageOptions): Promise<void> {
    return this.#serial(async () => {
      const options = checkStorageOptions(input);
      const file = await this.#read();
      await this.#write({ ...file, settings: { ...file.settings, ...options } });
    });
  }

  /**
   * Removes a remote backend and its token or password.
   * @throws NotFound (`details.field` = name); UsageError for the embedded node; the keychain's or
   *   file system's errors (then the settings are as they were).
   */
  remove(name: string): Promise<void> {
    return this.#serial(async () => {
      if (name === EMBEDDED_NODE_NAME)
        throw fieldError('name', 'the embedded node is part of the app and cannot be removed');
      const file = await this.#read();
      const { kubo, pinningServices, clusters } = file.settings;
      const backend = [...kubo, ...pinningServices, ...clusters].find((b) => b.name === name);
      if (!backend)
        throw new CustosError('NotFound', `no storage backend is called “${name}”`, {
          details: { field: 'name', problem: 'no backend has this name (already removed?)' },
        });
      const tokenRef = 'tokenRef' in backend ? backend.tokenRef : undefined;
      const { [tokenRef ?? '']: _dropped, ...sealedTokens } = file.sealedTokens;
      const next: StorageFile = {
        ...file,
        settings: {
          ...file.settings,
          kubo: kubo.filter((k) => k.name !== name),
          pinningServices: pinningServices.filter((p) => p.name !== name),
          clusters: clusters.filter((c) => c.name !== name),
        },
        sealedTokens,
      };
      await this.#write(next);
      const keychain = this.#keychain();
      if (tokenRef === undefined || !keychain || tokenRef in file.sealedTokens) return;
      try {
        await keychain.clear(tokenRef);
      } catch (error) {
        // Both or neither: a token left in the keychain with nothing naming it would never go.
        await this.#write(file).catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * The settings as they are now, with a `tokenFor` that opens each token from where it is kept.
   * @throws what `settings()` throws. `tokenFor` throws NotFound (token missing), VaultLocked,
   *   KeyringCorrupt (sealed token does not authenticate).
   */
  async config(vault: Vault): Promise<StorageConfig> {
    const file = await this.#read();
    return {
      settings: file.settings,
      tokenFor: async (ref) => {
        const sealed = file.sealedTokens[ref];
        if (sealed && file.sealingKey) return this.#open(vault, file.sealingKey, ref, sealed);
        const token = await this.#keychain()?.load(ref);
        if (token) return token;
        const cluster = file.settings.clusters.find((c) => c.tokenRef === ref);
        throw new CustosError(
          'NotFound',
          cluster
            ? `the password of the IPFS Cluster “${cluster.name}” is not in this device’s keychain: remove the cluster and add it again`
            : 'the access token of this pinning service is not in this device’s keychain: remove the service and add it again',
          { details: { tokenRef: ref } },
        );
      },
    };
  }

  async #open(
    vault: Vault,
    keyId: string,
    ref: string,
    sealed: { nonce: string; ciphertext: string },
  ): Promise<string> {
    const s = await this.#sodium();
    const key = vault.datasetKey(keyId);
    const plain = s.aeadDecrypt(
      Buffer.from(sealed.ciphertext, 'base64'),
      tokenAd(ref),
      Buffer.from(sealed.nonce, 'base64'),
      key,
    );
    s.memzero(key);
    if (!plain)
      throw new CustosError(
        'KeyringCorrupt',
        `the sealed token ${ref} in ${STORAGE_FILE} does not authenticate`,
      );
    return Buffer.from(plain).toString('utf8');
  }
}

const tokenAd = (ref: string): Uint8Array => Buffer.from(`custos storage token v1:${ref}`, 'utf8');

const hasRemote = (s: StorageSettings): boolean =>
  s.kubo.length > 0 || s.pinningServices.length > 0 || s.clusters.length > 0;

/**
 * Copies a dataset the embedded node holds to every backend the saved settings name.
 * @returns one copy per backend, each confirmed pinned (none when Settings name no backend), for
 *   the dataset's index.
 * @throws StorageUnavailable naming each backend that did not confirm the pin (or when this
 *   network cannot copy at all) — the caller then registers nothing.
 */
export async function replicateOrRefuse(
  session: NetworkSession,
  storage: StorageConfig,
  cid: Parameters<NonNullable<NetworkSession['replicate']>>[0],
): Promise<DatasetCopy[]> {
  if (!hasRemote(storage.settings)) return [];
  if (!session.replicate)
    throw new CustosError(
      'StorageUnavailable',
      'this network profile cannot copy datasets to the storage backends in Settings: nothing was registered',
    );
  const results = await session.replicate(cid, storage);
  const failed = results.filter((r) => !r.pinned);
  if (failed.length > 0)
    throw new CustosError(
      'StorageUnavailable',
      `not stored on ${failed
        .map((f) => `${f.name} (${f.error?.message ?? 'not pinned'})`)
        .join('; ')}: nothing was registered`.slice(0, 1000),
      { details: { backends: failed.map((f) => f.name).join(', ') } },
    );
  const pinnedAt = new Date().toISOString();
  return results.map(({ name, kind }) => ({ name, kind, pinnedAt }));
}

/**
 * Every IPFS backend for Settings: asked live through the running session, or, without one, the
 * saved backends as not running.
 */
export async function storageBackends(
  session: NetworkSession | null,
  storage: StorageConfig,
): Promise<StorageBackendHealth[]> {
  if (session?.storageHealth) return session.storageHealth(storage);
  const idle = (
    kind: StorageBackendHealth['kind'],
    b: { name: string },
    address: string,
  ): StorageBackendHealth => ({
    name: b.name,
    kind,
    address,
    health: 'not-running',
    detail: 'Checked once the network runs.',
  });
  return [
    {
      name: EMBEDDED_NODE_NAME,
      kind: 'embedded',
      address: null,
      health: session ? 'ok' : 'not-running',
      detail: session
        ? 'Running with the network (this profile reports no other backend).'
        : 'It starts with the network, when the vault is unlocked.',
    },
    ...storage.settings.kubo.map((k) => idle('kubo', k, k.apiUrl)),
    ...storage.settings.pinningServices.map((p) => idle('pinning-service', p, p.endpoint)),
    ...storage.settings.clusters.map((c) => ({
      ...idle('ipfs-cluster', c, c.apiUrl),
      copies: copiesOf(c),
    })),
  ];
}

/** The copies a cluster keeps, as Settings shows them. */
export const copiesOf = (c: StorageSettings['clusters'][number]): { min: number; max: number } => ({
  min: c.replicationMin,
  max: c.replicationMax,
});

/**
 * Saves storage settings that name no token (kubo nodes only) into a vault folder, e.g. a host
 * preparing a new vault's backends before it is created.
 * @throws UsageError when a pinning service is named (its token needs the vault or a keychain);
 *   the file system's errors.
 */
export async function saveTokenlessSettings(dir: string, settings: StorageSettings): Promise<void> {
  const checked = parseStorageSettings(settings);
  if (checked.pinningServices.length > 0 || checked.clusters.some((c) => c.tokenRef))
    throw new CustosError(
      'UsageError',
      'pinning services and clusters with a password are added through Settings (secrets)',
    );
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, STORAGE_FILE), serialized({ ...EMPTY, settings: checked }));
}
