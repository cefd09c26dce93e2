/**
 * A vault: a folder whose keyring holds one random key per dataset, wrapped by a vault key, which
 * is itself wrapped by the passphrase (Argon2id) and, optionally, by a recovery key.
 * Every change is a read-modify-write of the keyring under a lock, written atomically.
 */
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CustosError, fromFsError } from '../errors/index.ts';
import { sodium as defaultSodium, type SodiumBackend } from '../crypto/index.ts';
import { removeStaleTemps, writeFileAtomic } from '../files/index.ts';
import {
  KDF_PRESETS,
  KEYRING_FORMAT,
  KEYRING_VERSION,
  checkKdfBounds,
  macInput,
  parseKeyring,
  serializeKeyring,
  type KdfPreset,
  type Keyring,
  type KeyringBody,
} from './keyring.ts';
import {
  RECOVERY_SECRET_BYTES,
  decodeRecoveryKey,
  encodeRecoveryKey,
  recoveryKitText,
} from './recovery.ts';

export const KEYRING_FILE = 'keyring.json';
const LOCK_FILE = 'keyring.lock';
export const MIN_PASSPHRASE_LENGTH = 12;

const KDF_CONTEXT = 'CUSTOSvk';
const SUBKEY_WRAP = 1;
const SUBKEY_MAC = 2;
const enc = new TextEncoder();
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Uint8Array => Buffer.from(text, 'base64');

/** A dataset known to the vault (its key stays inside). */
export interface VaultDataset {
  readonly id: string;
  readonly label: string;
  readonly createdAt: string;
}

export interface RecoveryKit {
  readonly vaultId: string;
  readonly createdAt: string;
  /** The recovery key as the steward writes it down. */
  readonly key: string;
  /** The printable kit. */
  readonly text: string;
}

export interface VaultOptions {
  readonly sodium?: SodiumBackend;
  /** Argon2id preset for a new vault or a new passphrase (default `moderate`). */
  readonly kdf?: KdfPreset;
  /** How long to wait for another process's lock before `VaultBusy` (default 10 s). */
  readonly lockTimeoutMs?: number;
}

function normalisePassphrase(passphrase: string): Uint8Array {
  return enc.encode(passphrase.normalize('NFC'));
}

function checkPassphraseStrength(passphrase: string): void {
  if ([...passphrase.normalize('NFC')].length < MIN_PASSPHRASE_LENGTH) {
    throw new CustosError(
      'WeakPassphrase',
      `a vault passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters`,
    );
  }
}

const passphraseAd = (vaultId: string) => enc.encode(`custos vault key v1 passphrase:${vaultId}`);
const recoveryAd = (vaultId: string) => enc.encode(`custos vault key v1 recovery:${vaultId}`);
const datasetAd = (datasetId: string) => enc.encode(`custos dataset key v1:${datasetId}`);

async function passphraseKek(
  s: SodiumBackend,
  passphrase: string,
  kdf: Keyring['kdf'],
): Promise<Uint8Array> {
  checkKdfBounds(kdf.opslimit, kdf.memlimit);
  return s.argon2id(
    32,
    normalisePassphrase(passphrase),
    unb64(kdf.salt),
    kdf.opslimit,
    kdf.memlimit,
  );
}

function recoveryKek(s: SodiumBackend, secret: Uint8Array, vaultId: string): Uint8Array {
  return s.genericHash(32, enc.encode(`custos recovery kek v1:${vaultId}`), secret);
}

function computeMac(s: SodiumBackend, vaultKey: Uint8Array, body: KeyringBody): string {
  const macKey = s.kdfDerive(32, SUBKEY_MAC, KDF_CONTEXT, vaultKey);
  const mac = s.genericHash(32, macInput(body), macKey);
  s.memzero(macKey);
  return b64(mac);
}

function withMac(s: SodiumBackend, vaultKey: Uint8Array, body: KeyringBody): Keyring {
  return { ...body, mac: computeMac(s, vaultKey, body) };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the vault's write lock (a file naming the holder's pid); a dead holder's lock is taken over. */
async function acquireLock(dir: string, timeoutMs: number): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fromFsError(error, path);
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (!Number.isFinite(holder) || !pidAlive(holder)) {
      // Stale (its writer died, perhaps mid-write): remove it. A lock file too new to hold a pid
      // yet is left alone for a moment.
      const age = await stat(path).then(
        (st) => Date.now() - st.mtimeMs,
        () => 0,
      );
      if (Number.isFinite(holder) || age > 2000) {
        await unlink(path).catch(() => undefined);
        continue;
      }
    }
    if (Date.now() > deadline) {
      throw new CustosError('VaultBusy', 'another process is changing this vault', {
        details: { holder },
      });
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function readKeyringFile(dir: string): Promise<Keyring> {
  const path = join(dir, KEYRING_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CustosError('VaultNotFound', `no vault in ${dir} (no ${KEYRING_FILE})`, {
        details: { dir },
      });
    }
    throw fromFsError(error, path);
  }
  return parseKeyring(text);
}

/** True when `dir` holds a vault's keyring. */
export async function vaultExists(dir: string): Promise<boolean> {
  return stat(join(dir, KEYRING_FILE)).then(
    () => true,
    () => false,
  );
}

/** An unlocked vault. `lock()` forgets the vault key. */
export class Vault {
  readonly dir: string;
  readonly #sodium: SodiumBackend;
  readonly #options: VaultOptions;
  #vaultKey: Uint8Array | null;
  #keyring: Keyring;

  private constructor(
    dir: string,
    s: SodiumBackend,
    options: VaultOptions,
    vaultKey: Uint8Array,
    keyring: Keyring,
  ) {
    this.dir = dir;
    this.#sodium = s;
    this.#options = options;
    this.#vaultKey = vaultKey;
    this.#keyring = keyring;
  }

  /**
   * Creates a vault in `dir` (created if missing; must not already hold a vault).
   * Throws `VaultExists`, `WeakPassphrase`, and file-system errors.
   */
  static async create(dir: string, passphrase: string, options: VaultOptions = {}): Promise<Vault> {
    checkPassphraseStrength(passphrase);
    const s = options.sodium ?? (await defaultSodium());
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw fromFsError(error, dir);
    }
    if (await vaultExists(dir))
      throw new CustosError('VaultExists', `${dir} already holds a vault`, { details: { dir } });
    const release = await acquireLock(dir, options.lockTimeoutMs ?? 10_000);
    try {
      if (await vaultExists(dir))
        throw new CustosError('VaultExists', `${dir} already holds a vault`, { details: { dir } });
      const vaultKey = s.randomBytes(32);
      const vaultId = Buffer.from(s.randomBytes(16)).toString('hex');
      const preset = KDF_PRESETS[options.kdf ?? 'moderate'];
      const kdf = { algorithm: 'argon2id13' as const, ...preset, salt: b64(s.randomBytes(16)) };
      const kek = await passphraseKek(s, passphrase, kdf);
      const nonce = s.randomBytes(24);
      const body: KeyringBody = {
        format: KEYRING_FORMAT,
        version: KEYRING_VERSION,
        vaultId,
        createdAt: new Date().toISOString(),
        kdf,
        passphrase: {
          nonce: b64(nonce),
          ciphertext: b64(s.aeadEncrypt(vaultKey, passphraseAd(vaultId), nonce, kek)),
        },
        recovery: null,
        datasets: [],
      };
      s.memzero(kek);
      const keyring = withMac(s, vaultKey, body);
      await writeFileAtomic(join(dir, KEYRING_FILE), serializeKeyring(keyring));
      return new Vault(dir, s, options, vaultKey, keyring);
    } finally {
      await release();
    }
  }

  /**
   * Unlocks the vault in `dir` with its passphrase. Throws `VaultNotFound`, `WrongPassphrase`,
   * `KeyringCorrupt`, `KdfParametersOutOfBounds`, `UnsupportedVersion`.
   */
  static async open(dir: string, passphrase: string, options: VaultOptions = {}): Promise<Vault> {
    const s = options.sodium ?? (await defaultSodium());
    await removeStaleTemps(join(dir, KEYRING_FILE));
    const keyring = await readKeyringFile(dir);
    const kek = await passphraseKek(s, passphrase, keyring.kdf);
    const vaultKey = s.aeadDecrypt(
      unb64(keyring.passphrase.ciphertext),
      passphraseAd(keyring.vaultId),
      unb64(keyring.passphrase.nonce),
      kek,
    );
    s.memzero(kek);
    if (!vaultKey)
      throw new CustosError('WrongPassphrase', 'the passphrase does not unlock this vault');
    return Vault.#verified(dir, s, options, vaultKey, keyring);
  }

  /**
   * Unlocks the vault with its recovery key (from the recovery kit). Throws `RecoveryKitInvalid`
   * (typo, or a kit of another vault or an older kit), `RecoveryNotSet`, and the errors of `open`.
   */
  static async openWithRecoveryKey(
    dir: string,
    recoveryKey: string,
    options: VaultOptions = {},
  ): Promise<Vault> {
    const s = options.sodium ?? (await defaultSodium());
    await removeStaleTemps(join(dir, KEYRING_FILE));
    const keyring = await readKeyringFile(dir);
    const secret = decodeRecoveryKey(s, recoveryKey);
    if (!keyring.recovery)
      throw new CustosError('RecoveryNotSet', 'this vault has no recovery kit');
    const kek = recoveryKek(s, secret, keyring.vaultId);
    const vaultKey = s.aeadDecrypt(
      unb64(keyring.recovery.ciphertext),
      recoveryAd(keyring.vaultId),
      unb64(keyring.recovery.nonce),
      kek,
    );
    s.memzero(kek);
    s.memzero(secret);
    if (!vaultKey) {
      throw new CustosError(
        'RecoveryKitInvalid',
        'this recovery key does not open this vault (another vault’s, or replaced by a newer kit)',
      );
    }
    return Vault.#verified(dir, s, options, vaultKey, keyring);
  }

  static #verified(
    dir: string,
    s: SodiumBackend,
    options: VaultOptions,
    vaultKey: Uint8Array,
    keyring: Keyring,
  ): Vault {
    const { mac, ...body } = keyring;
    if (computeMac(s, vaultKey, body) !== mac) {
      s.memzero(vaultKey);
      throw new CustosError(
        'KeyringCorrupt',
        'the keyring was changed outside Custos (its MAC does not match)',
      );
    }
    return new Vault(dir, s, options, vaultKey, keyring);
  }

  get vaultId(): string {
    return this.#keyring.vaultId;
  }

  get hasRecoveryKit(): boolean {
    return this.#keyring.recovery !== null;
  }

  /** The datasets whose keys this vault holds, oldest first. */
  datasets(): VaultDataset[] {
    return this.#keyring.datasets.map(({ id, label, createdAt }) => ({ id, label, createdAt }));
  }

  #key(): Uint8Array {
    if (!this.#vaultKey) throw new CustosError('VaultLocked', 'the vault is locked');
    return this.#vaultKey;
  }

  /**
   * Applies `change` to the current keyring on disk under the write lock, and writes the result
   * atomically. Re-reading under the lock keeps another process's concurrent change.
   */
  async #update(
    change: (current: KeyringBody, vaultKey: Uint8Array) => Promise<KeyringBody> | KeyringBody,
  ): Promise<void> {
    const vaultKey = this.#key();
    const release = await acquireLock(this.dir, this.#options.lockTimeoutMs ?? 10_000);
    try {
      await removeStaleTemps(join(this.dir, KEYRING_FILE));
      const onDisk = await readKeyringFile(this.dir);
      const { mac, ...body } = onDisk;
      if (
        onDisk.vaultId !== this.#keyring.vaultId ||
        computeMac(this.#sodium, vaultKey, body) !== mac
      ) {
        throw new CustosError(
          'KeyringCorrupt',
          'the keyring on disk is not this vault’s or was changed outside Custos',
        );
      }
      const next = withMac(this.#sodium, vaultKey, await change(body, vaultKey));
      await writeFileAtomic(join(this.dir, KEYRING_FILE), serializeKeyring(next));
      this.#keyring = next;
    } finally {
      await release();
    }
  }

  /** Creates a new dataset: a random id and key, stored wrapped. Returns the id. */
  async addDataset(label = ''): Promise<{ id: string }> {
    const s = this.#sodium;
    const id = Buffer.from(s.randomBytes(16)).toString('hex');
    const key = s.randomBytes(32);
    await this.#update((body, vaultKey) => {
      const wrapKey = s.kdfDerive(32, SUBKEY_WRAP, KDF_CONTEXT, vaultKey);
      const nonce = s.randomBytes(24);
      const wrappedKey = s.aeadEncrypt(key, datasetAd(id), nonce, wrapKey);
      s.memzero(wrapKey);
      return {
        ...body,
        datasets: [
          ...body.datasets,
          {
            id,
            createdAt: new Date().toISOString(),
            label: label.slice(0, 200),
            nonce: b64(nonce),
            wrappedKey: b64(wrappedKey),
          },
        ],
      };
    });
    s.memzero(key);
    return { id };
  }

  /**
   * Removes a dataset's key. Only for rolling back a dataset whose container was never produced:
   * with its key gone, a container of that dataset can never be decrypted again.
   */
  async removeDataset(id: string): Promise<void> {
    await this.#update((body) => ({ ...body, datasets: body.datasets.filter((d) => d.id !== id) }));
  }

  /** The key of dataset `id`. Throws `UnknownDataset` when this vault does not hold it, `VaultLocked` after `lock()`. */
  datasetKey(id: string): Uint8Array {
    const s = this.#sodium;
    const entry = this.#keyring.datasets.find((d) => d.id === id);
    if (!entry) {
      throw new CustosError('UnknownDataset', `dataset ${id} is not in this vault`, {
        details: { datasetId: id },
      });
    }
    const wrapKey = s.kdfDerive(32, SUBKEY_WRAP, KDF_CONTEXT, this.#key());
    const key = s.aeadDecrypt(unb64(entry.wrappedKey), datasetAd(id), unb64(entry.nonce), wrapKey);
    s.memzero(wrapKey);
    if (!key)
      throw new CustosError(
        'KeyringCorrupt',
        `the wrapped key of dataset ${id} does not authenticate`,
      );
    return key;
  }

  /** Re-wraps the vault key under a new passphrase; dataset keys and containers are unchanged. */
  async changePassphrase(newPassphrase: string): Promise<void> {
    checkPassphraseStrength(newPassphrase);
    const s = this.#sodium;
    const preset = KDF_PRESETS[this.#options.kdf ?? 'moderate'];
    const kdf = { algorithm: 'argon2id13' as const, ...preset, salt: b64(s.randomBytes(16)) };
    const kek = await passphraseKek(s, newPassphrase, kdf);
    await this.#update((body, vaultKey) => {
      const nonce = s.randomBytes(24);
      const ciphertext = s.aeadEncrypt(vaultKey, passphraseAd(body.vaultId), nonce, kek);
      return { ...body, kdf, passphrase: { nonce: b64(nonce), ciphertext: b64(ciphertext) } };
    });
    s.memzero(kek);
  }

  /**
   * Creates a new recovery kit. The previous kit, if any, stops working. The key is shown to the
   * caller once and never stored in clear.
   */
  async createRecoveryKit(): Promise<RecoveryKit> {
    const s = this.#sodium;
    const secret = s.randomBytes(RECOVERY_SECRET_BYTES);
    const createdAt = new Date().toISOString();
    await this.#update((body, vaultKey) => {
      const kek = recoveryKek(s, secret, body.vaultId);
      const nonce = s.randomBytes(24);
      const ciphertext = s.aeadEncrypt(vaultKey, recoveryAd(body.vaultId), nonce, kek);
      s.memzero(kek);
      return { ...body, recovery: { createdAt, nonce: b64(nonce), ciphertext: b64(ciphertext) } };
    });
    const key = encodeRecoveryKey(s, secret);
    s.memzero(secret);
    return {
      vaultId: this.vaultId,
      createdAt,
      key,
      text: recoveryKitText(this.vaultId, createdAt, key),
    };
  }

  /** Forgets the vault key; every later key operation throws `VaultLocked`. */
  lock(): void {
    if (this.#vaultKey) this.#sodium.memzero(this.#vaultKey);
    this.#vaultKey = null;
  }
}
