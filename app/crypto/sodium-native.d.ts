// The part of sodium-native's API that Custos uses (the package ships no types).
declare module 'sodium-native' {
  const sodium: {
    crypto_secretstream_xchacha20poly1305_STATEBYTES: number;
    crypto_secretstream_xchacha20poly1305_ABYTES: number;
    crypto_secretstream_xchacha20poly1305_HEADERBYTES: number;
    crypto_secretstream_xchacha20poly1305_KEYBYTES: number;
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: number;
    crypto_secretstream_xchacha20poly1305_TAG_FINAL: number;
    crypto_secretstream_xchacha20poly1305_init_push(
      state: Buffer,
      header: Buffer,
      key: Buffer,
    ): void;
    crypto_secretstream_xchacha20poly1305_push(
      state: Buffer,
      c: Buffer,
      m: Buffer,
      ad: Buffer | null,
      tag: number,
    ): number;
    crypto_secretstream_xchacha20poly1305_init_pull(
      state: Buffer,
      header: Buffer,
      key: Buffer,
    ): void;
    crypto_secretstream_xchacha20poly1305_pull(
      state: Buffer,
      m: Buffer,
      tag: Buffer,
      c: Buffer,
      ad: Buffer | null,
    ): number;
    crypto_aead_xchacha20poly1305_ietf_ABYTES: number;
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
      c: Buffer,
      m: Buffer,
      ad: Buffer | null,
      nsec: null,
      npub: Buffer,
      k: Buffer,
    ): number;
    crypto_aead_xchacha20poly1305_ietf_decrypt(
      m: Buffer,
      nsec: null,
      c: Buffer,
      ad: Buffer | null,
      npub: Buffer,
      k: Buffer,
    ): number;
    crypto_generichash(out: Buffer, input: Buffer, key?: Buffer | null): void;
    crypto_kdf_derive_from_key(subkey: Buffer, subkeyId: number, ctx: Buffer, key: Buffer): void;
    crypto_pwhash_ALG_ARGON2ID13: number;
    crypto_pwhash_async(
      out: Buffer,
      passwd: Buffer,
      salt: Buffer,
      opslimit: number,
      memlimit: number,
      alg: number,
    ): Promise<void>;
    crypto_box_PUBLICKEYBYTES: number;
    crypto_box_SECRETKEYBYTES: number;
    crypto_box_SEALBYTES: number;
    crypto_box_keypair(pk: Buffer, sk: Buffer): void;
    crypto_scalarmult_base(q: Buffer, n: Buffer): void;
    crypto_box_seal(c: Buffer, m: Buffer, pk: Buffer): void;
    crypto_box_seal_open(m: Buffer, c: Buffer, pk: Buffer, sk: Buffer): boolean;
    crypto_sign_PUBLICKEYBYTES: number;
    crypto_sign_SECRETKEYBYTES: number;
    crypto_sign_BYTES: number;
    crypto_sign_keypair(pk: Buffer, sk: Buffer): void;
    crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void;
    crypto_sign_detached(sig: Buffer, m: Buffer, sk: Buffer): void;
    crypto_sign_verify_detached(sig: Buffer, m: Buffer, pk: Buffer): boolean;
    randombytes_buf(buf: Buffer): void;
    sodium_memzero(buf: Buffer): void;
  };
  export default sodium;
}
