import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CustosError, type ErrorTag } from '../errors/index.ts';
import {
  HEADER_BYTES,
  decryptStream,
  encryptStream,
  parseHeader,
  type ByteSource,
} from './container.ts';
import { loadBackend, type BackendName, type SodiumBackend } from './sodium.ts';
import { memorySink, memorySource } from './testing/memory.ts';
import { TAMPER_CASES, type TamperFixtures } from './testing/tamper.ts';

const BACKENDS: BackendName[] = ['sodium-native', 'libsodium-wrappers-sumo'];
const backends = {} as Record<BackendName, SodiumBackend>;
beforeAll(async () => {
  for (const name of BACKENDS) backends[name] = await loadBackend(name);
});

const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const datasetId = '00112233445566778899aabbccddeeff';

async function seal(
  s: SodiumBackend,
  plaintext: Uint8Array,
  chunkSize: number,
  maxRead?: number,
): Promise<Uint8Array> {
  const sink = memorySink();
  await encryptStream(
    { sodium: s, datasetKey: key, datasetId, chunkSize },
    memorySource(plaintext, maxRead),
    sink,
  );
  return sink.bytes();
}

const keyFor = (k: Uint8Array, id: string) => (wanted: string) => {
  if (wanted !== id)
    throw new CustosError('UnknownDataset', `dataset ${wanted} is not in this vault`);
  return k;
};

async function open(
  s: SodiumBackend,
  container: Uint8Array,
  k = key,
  id = datasetId,
  source?: ByteSource,
): Promise<Uint8Array> {
  const sink = memorySink();
  await decryptStream(
    { sodium: s, keyFor: keyFor(k, id) },
    source ?? memorySource(container),
    sink,
  );
  return sink.bytes();
}

async function failureTag(promise: Promise<unknown>): Promise<ErrorTag | 'no error'> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    if (error instanceof CustosError) return error.tag;
    throw error;
  }
}

describe('container round trip', () => {
  const chunk = 64;
  const sizes = [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 2 * chunk + 1, 10 * chunk - 3];
  for (const name of BACKENDS) {
    it.each(sizes)(`${name}: %i bytes round-trip and give the documented length`, async (size) => {
      const s = backends[name];
      const plaintext = s.randomBytes(size);
      const container = await seal(s, plaintext, chunk);
      const chunks = Math.max(1, Math.ceil(size / chunk));
      expect(container.length).toBe(HEADER_BYTES + size + chunks * 17);
      expect(Buffer.from(await open(s, container)).equals(Buffer.from(plaintext))).toBe(true);
    });
  }

  it('round-trips any content and size, with any read pattern (property)', async () => {
    const s = backends['sodium-native'];
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 64, max: 700 }),
        fc.integer({ min: 1, max: 1000 }),
        async (plaintext, chunkSize, maxRead) => {
          const container = await seal(s, plaintext, chunkSize, maxRead);
          const back = await open(s, container, key, datasetId, memorySource(container, maxRead));
          expect(Buffer.from(back).equals(Buffer.from(plaintext))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a 1 MiB default-chunk container written by one backend is read by the other, both ways', async () => {
    const plaintext = backends['sodium-native'].randomBytes(3 * 1024 * 1024 + 5);
    for (const [writer, reader] of [BACKENDS, [...BACKENDS].reverse()] as [
      BackendName,
      BackendName,
    ][]) {
      const sink = memorySink();
      await encryptStream(
        { sodium: backends[writer], datasetKey: key, datasetId },
        memorySource(plaintext),
        sink,
      );
      const back = await open(backends[reader], sink.bytes());
      expect(Buffer.from(back).equals(Buffer.from(plaintext)), `${writer} → ${reader}`).toBe(true);
    }
  });

  it('two encryptions of the same file differ (fresh stream header) but both decrypt', async () => {
    const s = backends['sodium-native'];
    const plaintext = s.randomBytes(500);
    const a = await seal(s, plaintext, 64);
    const b = await seal(s, plaintext, 64);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a.subarray(0, 32)).equals(Buffer.from(b.subarray(0, 32)))).toBe(true);
    expect(Buffer.from(await open(s, b)).equals(Buffer.from(plaintext))).toBe(true);
  });
});

describe('known-answer vectors (docs/format-vectors/container-v1.json)', () => {
  const file = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../docs/format-vectors/container-v1.json'), 'utf8'),
  ) as {
    datasetKey: string;
    datasetId: string;
    chunkSize: number;
    vectors: { name: string; plaintext: string; container: string }[];
    tampered: { name: string; expect: ErrorTag; container: string }[];
  };
  const vKey = Buffer.from(file.datasetKey, 'hex');

  for (const name of BACKENDS) {
    it.each(file.vectors.map((v) => [v.name, v] as const))(
      `${name} decrypts vector "%s"`,
      async (_n, v) => {
        const container = Buffer.from(v.container, 'hex');
        const header = parseHeader(container);
        expect(header).toMatchObject({
          version: 1,
          chunkSize: file.chunkSize,
          datasetId: file.datasetId,
        });
        const back = await open(backends[name], container, vKey, file.datasetId);
        expect(Buffer.from(back).toString('hex')).toBe(v.plaintext);
      },
    );

    it.each(file.tampered.map((v) => [v.name, v] as const))(
      `${name} refuses tampered vector "%s" with its tag`,
      async (_n, v) => {
        const tag = await failureTag(
          open(backends[name], Buffer.from(v.container, 'hex'), vKey, file.datasetId),
        );
        expect(tag).toBe(v.expect);
      },
    );
  }

  it('the checked-in tampered vectors are what the tamper corpus produces now', () => {
    expect(file.tampered.map((t) => [t.name, t.expect])).toEqual(
      TAMPER_CASES.map((c) => [c.name, c.expect]),
    );
  });
});

describe('tamper corpus (age / Tink attack classes) on fresh containers', () => {
  it.each(TAMPER_CASES.map((c) => [c.attackClass, c.name, c] as const))(
    '%s: %s',
    async (_cls, _name, c) => {
      const s = backends['sodium-native'];
      const plaintext = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);
      const f: TamperFixtures = {
        short: await seal(s, plaintext(224), 64),
        full: await seal(s, plaintext(256), 64),
        other: await seal(s, plaintext(224), 64),
        chunkSize: 64,
      };
      expect(await failureTag(open(s, c.apply(f)))).toBe(c.expect);
    },
  );

  it('a wrong key for the right dataset id is refused before any output (WrongKey)', async () => {
    const s = backends['sodium-native'];
    const container = await seal(s, s.randomBytes(300), 64);
    const sink = memorySink();
    const wrong = s.randomBytes(32);
    const tag = await failureTag(
      decryptStream({ sodium: s, keyFor: () => wrong }, memorySource(container), sink),
    );
    expect(tag).toBe('WrongKey');
    expect(sink.bytes().length).toBe(0);
  });

  it('every single bit flip anywhere in a 3-chunk container is rejected', async () => {
    const s = backends['sodium-native'];
    const container = await seal(s, s.randomBytes(150), 64);
    const accepted: number[] = [];
    for (let bit = 0; bit < container.length * 8; bit += 1) {
      const copy = new Uint8Array(container);
      copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      if ((await failureTag(open(s, copy))) === 'no error') accepted.push(bit);
    }
    expect(accepted).toEqual([]);
  });

  it('the portable backend rejects a sample of bit flips the same way as the native one', async () => {
    const native = backends['sodium-native'];
    const wasm = backends['libsodium-wrappers-sumo'];
    const container = await seal(native, native.randomBytes(150), 64);
    for (let bit = 0; bit < container.length * 8; bit += 37) {
      const copy = new Uint8Array(container);
      copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(await failureTag(open(wasm, copy))).toBe(await failureTag(open(native, copy)));
    }
  });
});

describe('backends produce identical bytes for the deterministic primitives', () => {
  const message = new TextEncoder().encode('Cardiology cohort 2024');
  it('BLAKE2b, KDF, AEAD, Argon2id and Ed25519 agree', async () => {
    const [a, b] = [backends['sodium-native'], backends['libsodium-wrappers-sumo']];
    const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
    expect(hex(a.genericHash(32, message, key))).toBe(hex(b.genericHash(32, message, key)));
    expect(hex(a.kdfDerive(32, 7, 'CUSTOSv1', key))).toBe(hex(b.kdfDerive(32, 7, 'CUSTOSv1', key)));
    const nonce = new Uint8Array(24).fill(9);
    const ad = new Uint8Array([1, 2, 3]);
    const sealed = a.aeadEncrypt(message, ad, nonce, key);
    expect(hex(sealed)).toBe(hex(b.aeadEncrypt(message, ad, nonce, key)));
    expect(b.aeadDecrypt(sealed, ad, nonce, key)).toEqual(new Uint8Array(message));
    const salt = new Uint8Array(16).fill(4);
    const pass = new TextEncoder().encode('correct horse battery staple');
    expect(hex(await a.argon2id(32, pass, salt, 2, 64 * 1024 * 1024))).toBe(
      hex(await b.argon2id(32, pass, salt, 2, 64 * 1024 * 1024)),
    );
    const seed = new Uint8Array(32).fill(5);
    expect(hex(a.signSeedKeypair(seed).publicKey)).toBe(hex(b.signSeedKeypair(seed).publicKey));
    expect(hex(a.signDetached(message, a.signSeedKeypair(seed).secretKey))).toBe(
      hex(b.signDetached(message, b.signSeedKeypair(seed).secretKey)),
    );
  });

  it('a box sealed by one backend opens with the other', () => {
    const [a, b] = [backends['sodium-native'], backends['libsodium-wrappers-sumo']];
    const pair = b.boxKeypair();
    expect(Buffer.from(a.boxPublicKeyOf(pair.secretKey)).equals(Buffer.from(pair.publicKey))).toBe(
      true,
    );
    const sealed = a.boxSeal(key, pair.publicKey);
    expect(b.boxSealOpen(sealed, pair.publicKey, pair.secretKey)).toEqual(new Uint8Array(key));
    expect(b.boxSealOpen(sealed.slice(1), pair.publicKey, pair.secretKey)).toBeNull();
  });
});
