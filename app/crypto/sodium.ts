/**
 * The libsodium operations Custos uses, behind one interface with two implementations that produce
 * identical bytes: `sodium-native` (native, fast) and `libsodium-wrappers-sumo` (WebAssembly,
 * portable). The container, keyring and key-release code are written against this interface only.
 */

export const SECRETSTREAM_HEADERBYTES = 24;
export const SECRETSTREAM_ABYTES = 17;
export const SECRETSTREAM_KEYBYTES = 32;
export const TAG_MESSAGE = 0;
export const TAG_FINAL = 3;
export const AEAD_NONCEBYTES = 24;
export const AEAD_ABYTES = 16;
export const BOX_PUBLICKEYBYTES = 32;
export const BOX_SEALBYTES = 48;
export const SIGN_PUBLICKEYBYTES = 32;
export const SIGN_BYTES = 64;

export type BackendName = 'sodium-native' | 'libsodium-wrappers-sumo';

/** Opaque per-stream state owned by a backend. */
export interface StreamState {
  readonly backend: BackendName;
}

export interface SodiumBackend {
  readonly name: BackendName;
  randomBytes(length: number): Uint8Array;
  /** Starts an encryption stream; returns the 24-byte stream header to store. */
  secretstreamInitPush(key: Uint8Array): { state: StreamState; header: Uint8Array };
  /**
   * Encrypts one chunk. Writes into `out` (length ≥ message + ABYTES) when given, and returns the
   * ciphertext view.
   */
  secretstreamPush(
    state: StreamState,
    message: Uint8Array,
    ad: Uint8Array | null,
    tag: number,
    out?: Uint8Array,
  ): Uint8Array;
  secretstreamInitPull(header: Uint8Array, key: Uint8Array): StreamState;
  /** Decrypts one chunk; `null` when it does not authenticate. */
  secretstreamPull(
    state: StreamState,
    ciphertext: Uint8Array,
    ad: Uint8Array | null,
    out?: Uint8Array,
  ): { message: Uint8Array; tag: number } | null;
  aeadEncrypt(message: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  /** `null` when the ciphertext does not authenticate. */
  aeadDecrypt(
    ciphertext: Uint8Array,
    ad: Uint8Array,
    nonce: Uint8Array,
    key: Uint8Array,
  ): Uint8Array | null;
  /** BLAKE2b with an output of `length` bytes, keyed when `key` is given. */
  genericHash(length: number, message: Uint8Array, key?: Uint8Array): Uint8Array;
  /** libsodium `crypto_kdf_derive_from_key`; `context` is exactly 8 ASCII characters. */
  kdfDerive(length: number, subkeyId: number, context: string, key: Uint8Array): Uint8Array;
  /** Argon2id v1.3. */
  argon2id(
    length: number,
    passphrase: Uint8Array,
    salt: Uint8Array,
    opslimit: number,
    memlimit: number,
  ): Promise<Uint8Array>;
  boxKeypair(): { publicKey: Uint8Array; secretKey: Uint8Array };
  /** The X25519 public key of a secret key (crypto_scalarmult_base). */
  boxPublicKeyOf(secretKey: Uint8Array): Uint8Array;
  boxSeal(message: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** `null` when the sealed box does not open with this key pair. */
  boxSealOpen(sealed: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | null;
  signSeedKeypair(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  signDetached(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  signVerifyDetached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  memzero(buffer: Uint8Array): void;
}

const loaded = new Map<BackendName, Promise<SodiumBackend>>();

/** Loads one backend by name (each is loaded once per process). */
export function loadBackend(name: BackendName): Promise<SodiumBackend> {
  let backend = loaded.get(name);
  if (!backend) {
    backend =
      name === 'sodium-native'
        ? import('./backend-native.ts').then((m) => m.nativeBackend())
        : import('./backend-wasm.ts').then((m) => m.wasmBackend());
    loaded.set(name, backend);
  }
  return backend;
}

/**
 * The backend Custos uses: `sodium-native` when its prebuilt addon loads on this platform, else
 * the WebAssembly build. `CUSTOS_SODIUM=libsodium-wrappers-sumo` forces the portable one.
 */
export async function sodium(): Promise<SodiumBackend> {
  if (process.env['CUSTOS_SODIUM'] === 'libsodium-wrappers-sumo')
    return loadBackend('libsodium-wrappers-sumo');
  try {
    return await loadBackend('sodium-native');
  } catch {
    return loadBackend('libsodium-wrappers-sumo');
  }
}
