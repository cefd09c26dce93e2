/**
 * `custos demo`: the Custos story on embedded defaults, told as it happens. Each chapter uses the
 * production code; chapters whose parts are not built yet are named as such, never faked.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptFile, encryptFile, sodium } from '../crypto/index.ts';
import { CustosError, explain } from '../errors/index.ts';
import { Vault } from '../vault/index.ts';
import { syntheticPatientsCsv } from '../synthetic/index.ts';

export interface DemoOptions {
  /** Keep every artifact here; otherwise a temporary folder, removed at the end. */
  readonly out?: string;
  readonly patients?: number;
  readonly log: (line: string) => void;
}

const DEMO_PASSPHRASE = 'demo passphrase — not for real data';

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Runs the demo; resolves when every chapter passed, throws the first typed error otherwise. */
export async function runDemo(options: DemoOptions): Promise<void> {
  const { log } = options;
  const dir = options.out ?? (await mkdtemp(join(tmpdir(), 'custos-demo-')));
  await mkdir(dir, { recursive: true });
  const s = await sodium();
  try {
    log(`Custos demo — artifacts in ${dir}`);
    log('');
    log('1. Create a vault');
    const vault = await Vault.create(join(dir, 'vault'), DEMO_PASSPHRASE);
    log(
      `   vault ${vault.vaultId} — Argon2id (3 passes, 256 MiB) protects its keys; crypto backend ${s.name}`,
    );
    const kit = await vault.createRecoveryKit();
    await writeFile(join(dir, 'recovery-kit.txt'), kit.text, { mode: 0o600 });
    log(`   recovery kit written to recovery-kit.txt (key ${kit.key.slice(0, 11)}…)`);

    log('');
    const rows = options.patients ?? 20_000;
    log(`2. Generate a synthetic patient dataset (${rows} made-up patients)`);
    const csv = join(dir, 'patients.csv');
    await writeFile(csv, syntheticPatientsCsv(rows), { mode: 0o600 });
    log(
      `   patients.csv: ${(await stat(csv)).size} bytes, sha256 ${(await sha256(csv)).slice(0, 16)}…`,
    );

    log('');
    log('3. Encrypt it into a container');
    const { id } = await vault.addDataset('Cardiology cohort (synthetic)');
    const container = join(dir, 'patients.custos');
    const started = performance.now();
    await encryptFile(
      { sodium: s, datasetKey: vault.datasetKey(id), datasetId: id },
      csv,
      container,
    );
    const ms = performance.now() - started;
    log(
      `   dataset ${id} → patients.custos (${(await stat(container)).size} bytes, ${ms.toFixed(0)} ms)`,
    );

    log('');
    log('4. Decrypt and verify');
    const back = join(dir, 'patients.decrypted.csv');
    await decryptFile({ sodium: s, keyFor: (d) => vault.datasetKey(d) }, container, back);
    const same = (await sha256(back)) === (await sha256(csv));
    log(
      `   every chunk authenticated, final marker present; content ${same ? 'identical' : 'DIFFERENT'}`,
    );
    if (!same) throw new CustosError('Internal', 'the decrypted dataset differs from the original');

    log('');
    log('5. Tamper with one bit and try again');
    const bytes = await readFile(container);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 1, middle);
    const tampered = join(dir, 'patients.tampered.custos');
    await writeFile(tampered, bytes);
    try {
      await decryptFile(
        { sodium: s, keyFor: (d) => vault.datasetKey(d) },
        tampered,
        join(dir, 'tampered.csv'),
      );
      throw new CustosError('Internal', 'a tampered container was accepted');
    } catch (error) {
      if (!(error instanceof CustosError) || error.tag !== 'TamperedCiphertext') throw error;
      log(`   refused: ${error.tag} — ${explain(error.tag)}`);
      const leftover = await stat(join(dir, 'tampered.csv')).then(
        () => true,
        () => false,
      );
      if (leftover) throw new CustosError('Internal', 'a refused decryption left an output file');
      log('   checked: no output file was created');
    }
    vault.lock();

    log('');
    log(
      'Not in this build yet (each arrives with its own issue): publish to IPFS, register and grant on',
    );
    log('the chain with a Ledger signature, run in an enclave, audit trail, usage proof, revoke.');
    log('');
    log('Demo complete.');
  } finally {
    if (!options.out) await rm(dir, { recursive: true, force: true });
  }
}
