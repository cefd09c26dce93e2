// Generates the known-answer vectors in docs/format-vectors/ ONCE (their stream headers are random).
// Tests check the product against the checked-in files; re-running this replaces them, so do it only
// when the format version changes:  node scripts/gen-format-vectors.ts --force
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptStream, loadBackend } from '../app/crypto/index.ts';
import { memorySink, memorySource } from '../app/crypto/testing/memory.ts';
import { Vault } from '../app/vault/index.ts';
import { TAMPER_CASES } from '../app/crypto/testing/tamper.ts';

const out = join(import.meta.dirname, '..', 'docs', 'format-vectors');
if (existsSync(join(out, 'container-v1.json')) && !process.argv.includes('--force')) {
  console.error('vectors exist; pass --force to replace them');
  process.exit(1);
}
const sodium = await loadBackend('sodium-native');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const datasetKey = Uint8Array.from({ length: 32 }, (_, i) => i);
const datasetId = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
const chunkSize = 64;
const plaintext = (n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

async function seal(p: Uint8Array): Promise<Uint8Array> {
  const sink = memorySink();
  await encryptStream({ sodium, datasetKey, datasetId, chunkSize }, memorySource(p), sink);
  return sink.bytes();
}

const sizes = {
  empty: 0,
  'one byte': 1,
  'chunk - 1': 63,
  chunk: 64,
  'chunk + 1': 65,
  '2 chunks': 128,
  '3.5 chunks': 224,
};
const vectors = [];
for (const [name, size] of Object.entries(sizes)) {
  const p = plaintext(size);
  vectors.push({ name, plaintext: hex(p), container: hex(await seal(p)) });
}
const fixtures = {
  short: await seal(plaintext(224)),
  full: await seal(plaintext(256)),
  other: await seal(plaintext(224)),
  chunkSize,
};
const tampered = TAMPER_CASES.map((c) => ({
  name: c.name,
  class: c.attackClass,
  expect: c.expect,
  container: hex(c.apply(fixtures)),
}));
await mkdir(out, { recursive: true });
await writeFile(
  join(out, 'container-v1.json'),
  `${JSON.stringify(
    {
      description:
        'Custos container format v1 known-answer vectors (docs/format.md). Generated once by scripts/gen-format-vectors.ts.',
      datasetKey: hex(datasetKey),
      datasetId,
      chunkSize,
      vectors,
      tampered,
    },
    null,
    2,
  )}\n`,
);

// A keyring made with known inputs: the test opens it and must find this dataset key.
const dir = await mkdtemp(join(tmpdir(), 'custos-vector-'));
const passphrase = 'vector passphrase — not secret';
const vault = await Vault.create(dir, passphrase, { sodium, kdf: 'interactive' });
const { id } = await vault.addDataset('vector dataset');
const kit = await vault.createRecoveryKit();
await writeFile(
  join(out, 'keyring-v1.json'),
  `${JSON.stringify(
    {
      description:
        'A keyring v1 (docs/format.md) with known passphrase and recovery key; opening it must give datasetKey for datasetId.',
      passphrase,
      recoveryKey: kit.key,
      datasetId: id,
      datasetKey: hex(vault.datasetKey(id)),
      keyring: JSON.parse(await readFile(join(dir, 'keyring.json'), 'utf8')) as unknown,
    },
    null,
    2,
  )}\n`,
);
await rm(dir, { recursive: true });
console.log(
  `wrote ${vectors.length} vectors, ${tampered.length} tampered cases and a keyring to ${out}`,
);
