import lib from 'libsodium-wrappers-sumo';
import type { StateAddress } from 'libsodium-wrappers-sumo';
import type { SodiumBackend, StreamState } from './sodium.ts';

interface WasmState extends StreamState {
  readonly address: StateAddress;
}

/** The libsodium-wrappers-sumo backend: libsodium compiled to WebAssembly. */
export async function wasmBackend(): Promise<SodiumBackend> {
  await lib.ready;
  const s = lib;
  return {
    name: 'libsodium-wrappers-sumo',
    randomBytes: (length) => s.randombytes_buf(length),
    secretstreamInitPush(key) {
      const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
      return { state: { backend: 'libsodium-wrappers-sumo', address: state } as WasmState, header };
    },
    secretstreamPush(state, message, ad, tag, out) {
      const c = s.crypto_secretstream_xchacha20poly1305_push(
        (state as WasmState).address,
        message,
        ad,
        tag,
      );
      if (!out) return c;
      out.set(c);
      return out.subarray(0, c.length);
    },
    secretstreamInitPull(header, key) {
      const address = s.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
      return { backend: 'libsodium-wrappers-sumo', address } as WasmState;
    },
    secretstreamPull(state, ciphertext, ad, out) {
      let r: { message: Uint8Array; tag: number } | false;
      try {
        r = s.crypto_secretstream_xchacha20poly1305_pull(
          (state as WasmState).address,
          ciphertext,
          ad,
        );
      } catch {
        return null;
      }
      if (!r) return null;
      if (!out) return r;
      out.set(r.message);
      return { message: out.subarray(0, r.message.length), tag: r.tag };
    },
    aeadEncrypt: (message, ad, nonce, key) =>
      s.crypto_aead_xchacha20poly1305_ietf_encrypt(message, ad, null, nonce, key),
    aeadDecrypt(ciphertext, ad, nonce, key) {
      try {
        return s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
      } catch {
        return null;
      }
    },
    genericHash: (length, message, key) => s.crypto_generichash(length, message, key ?? null),
    kdfDerive: (length, subkeyId, context, key) =>
      s.crypto_kdf_derive_from_key(length, subkeyId, context, key),
    argon2id: (length, passphrase, salt, opslimit, memlimit) =>
      Promise.resolve(
        s.crypto_pwhash(
          length,
          passphrase,
          salt,
          opslimit,
          memlimit,
          s.crypto_pwhash_ALG_ARGON2ID13,
        ),
      ),
    boxKeypair() {
      const { publicKey, privateKey } = s.crypto_box_keypair();
      return { publicKey, secretKey: privateKey };
    },
    boxPublicKeyOf: (secretKey) => s.crypto_scalarmult_base(secretKey),
    boxSeal: (message, publicKey) => s.crypto_box_seal(message, publicKey),
    boxSealOpen(sealed, publicKey, secretKey) {
      try {
        return s.crypto_box_seal_open(sealed, publicKey, secretKey);
      } catch {
        return null;
      }
    },
    signSeedKeypair(seed) {
      const { publicKey, privateKey } = s.crypto_sign_seed_keypair(seed);
      return { publicKey, secretKey: privateKey };
    },
    signDetached: (message, secretKey) => s.crypto_sign_detached(message, secretKey),
    signVerifyDetached(signature, message, publicKey) {
      try {
        return s.crypto_sign_verify_detached(signature, message, publicKey);
      } catch {
        return false;
      }
    },
    memzero: (buffer) => s.memzero(buffer),
  };
}
