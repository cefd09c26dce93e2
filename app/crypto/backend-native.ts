import sodium from 'sodium-native';
import type { SodiumBackend, StreamState } from './sodium.ts';

interface NativeState extends StreamState {
  readonly state: Buffer;
}

const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES;

/** The sodium-native backend: libsodium's C code through a prebuilt N-API addon. */
export function nativeBackend(): SodiumBackend {
  const tagOut = Buffer.alloc(1);
  return {
    name: 'sodium-native',
    randomBytes(length) {
      const out = Buffer.alloc(length);
      sodium.randombytes_buf(out);
      return out;
    },
    secretstreamInitPush(key) {
      const state = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES);
      const header = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES);
      sodium.crypto_secretstream_xchacha20poly1305_init_push(state, header, buf(key));
      return { state: { backend: 'sodium-native', state } as NativeState, header };
    },
    secretstreamPush(state, message, ad, tag, out) {
      const c = out
        ? buf(out).subarray(0, message.length + ABYTES)
        : Buffer.alloc(message.length + ABYTES);
      sodium.crypto_secretstream_xchacha20poly1305_push(
        (state as NativeState).state,
        c,
        buf(message),
        ad ? buf(ad) : null,
        tag,
      );
      return c;
    },
    secretstreamInitPull(header, key) {
      const state = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES);
      sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, buf(header), buf(key));
      return { backend: 'sodium-native', state } as NativeState;
    },
    secretstreamPull(state, ciphertext, ad, out) {
      if (ciphertext.length < ABYTES) return null;
      const m = out
        ? buf(out).subarray(0, ciphertext.length - ABYTES)
        : Buffer.alloc(ciphertext.length - ABYTES);
      try {
        sodium.crypto_secretstream_xchacha20poly1305_pull(
          (state as NativeState).state,
          m,
          tagOut,
          buf(ciphertext),
          ad ? buf(ad) : null,
        );
      } catch {
        return null;
      }
      return { message: m, tag: tagOut[0] ?? -1 };
    },
    aeadEncrypt(message, ad, nonce, key) {
      const c = Buffer.alloc(message.length + sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES);
      sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        c,
        buf(message),
        buf(ad),
        null,
        buf(nonce),
        buf(key),
      );
      return c;
    },
    aeadDecrypt(ciphertext, ad, nonce, key) {
      if (ciphertext.length < sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES) return null;
      const m = Buffer.alloc(ciphertext.length - sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES);
      try {
        sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
          m,
          null,
          buf(ciphertext),
          buf(ad),
          buf(nonce),
          buf(key),
        );
      } catch {
        return null;
      }
      return m;
    },
    genericHash(length, message, key) {
      const out = Buffer.alloc(length);
      sodium.crypto_generichash(out, buf(message), key ? buf(key) : null);
      return out;
    },
    kdfDerive(length, subkeyId, context, key) {
      const out = Buffer.alloc(length);
      sodium.crypto_kdf_derive_from_key(out, subkeyId, Buffer.from(context, 'ascii'), buf(key));
      return out;
    },
    async argon2id(length, passphrase, salt, opslimit, memlimit) {
      const out = Buffer.alloc(length);
      await sodium.crypto_pwhash_async(
        out,
        buf(passphrase),
        buf(salt),
        opslimit,
        memlimit,
        sodium.crypto_pwhash_ALG_ARGON2ID13,
      );
      return out;
    },
    boxKeypair() {
      const publicKey = Buffer.alloc(sodium.crypto_box_PUBLICKEYBYTES);
      const secretKey = Buffer.alloc(sodium.crypto_box_SECRETKEYBYTES);
      sodium.crypto_box_keypair(publicKey, secretKey);
      return { publicKey, secretKey };
    },
    boxPublicKeyOf(secretKey) {
      const publicKey = Buffer.alloc(sodium.crypto_box_PUBLICKEYBYTES);
      sodium.crypto_scalarmult_base(publicKey, buf(secretKey));
      return publicKey;
    },
    boxSeal(message, publicKey) {
      const c = Buffer.alloc(message.length + sodium.crypto_box_SEALBYTES);
      sodium.crypto_box_seal(c, buf(message), buf(publicKey));
      return c;
    },
    boxSealOpen(sealed, publicKey, secretKey) {
      if (sealed.length < sodium.crypto_box_SEALBYTES) return null;
      const m = Buffer.alloc(sealed.length - sodium.crypto_box_SEALBYTES);
      return sodium.crypto_box_seal_open(m, buf(sealed), buf(publicKey), buf(secretKey)) ? m : null;
    },
    signSeedKeypair(seed) {
      const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
      const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
      sodium.crypto_sign_seed_keypair(publicKey, secretKey, buf(seed));
      return { publicKey, secretKey };
    },
    signDetached(message, secretKey) {
      const sig = Buffer.alloc(sodium.crypto_sign_BYTES);
      sodium.crypto_sign_detached(sig, buf(message), buf(secretKey));
      return sig;
    },
    signVerifyDetached(signature, message, publicKey) {
      if (
        signature.length !== sodium.crypto_sign_BYTES ||
        publicKey.length !== sodium.crypto_sign_PUBLICKEYBYTES
      ) {
        return false;
      }
      return sodium.crypto_sign_verify_detached(buf(signature), buf(message), buf(publicKey));
    },
    memzero(buffer) {
      sodium.sodium_memzero(buf(buffer));
    },
  };
}
