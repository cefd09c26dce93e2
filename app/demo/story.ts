/**
 * `custos demo`: the whole Custos story on embedded defaults, told as it happens. Every chapter runs
 * the production code. What cannot run here is replaced at the lowest layer and named as such in the
 * output: the Ledger is an APDU-level emulator (EMULATED), the enclave is simulated (SIMULATED), the
 * chain is a local development network (devnet).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { DEVNET_KEYS, type TypedDataSigner } from '../chain/index.ts';
import { sodium } from '../crypto/index.ts';
import { CustosError, explain } from '../errors/index.ts';
import { auditDataset, type AuditTimeline } from '../audit/index.ts';
import { exportUsageProof, usageProofPdf, verifyUsageProof } from '../proofs/index.ts';
import { emulatedLedgerSigner } from '../signer/emulator/index.ts';
import { writeSyntheticFile } from '../synthetic/index.ts';
import { Vault } from '../vault/index.ts';
import { aiChapter } from './ai-chapter.ts';
import { enclaveApp } from '../../enclave-bridge/apps/index.ts';
import {
  DEVNET_OPERATOR,
  runSimulatedEnclave,
  startDevnetEnvironment,
  storeDataset,
  type DevnetEnvironment,
} from '../../enclave-bridge/simulator/index.ts';

export interface DemoOptions {
  /** Keep every artifact here; otherwise a temporary folder, removed at the end. */
  readonly out?: string;
  readonly patients?: number;
  /** Also tell the optional AI chapter (train a model; run an owner's encrypted model). */
  readonly ai?: boolean;
  readonly log: (line: string) => void;
}

/** anvil's development mnemonic: the emulated Ledger's first account is the devnet owner account. */
const DEVELOPMENT_MNEMONIC = 'test test test test test test test test test test test junk';
const DEMO_PASSPHRASE = 'demo passphrase — not for real data';
const hours = (h: number): number => h * 3600;
/** The research lab the demo grants to (a devnet account). */
const RESEARCH_LAB = new Wallet(DEVNET_KEYS.relayer).address;

/** Runs the demo; resolves when every chapter passed, throws the first typed error otherwise. */
export async function runDemo(options: DemoOptions): Promise<void> {
  const { log } = options;
  const dir = options.out ?? (await mkdtemp(join(tmpdir(), 'custos-demo-')));
  await mkdir(dir, { recursive: true });
  const step = (n: number, title: string): void => {
    log('');
    log(`${n}. ${title}`);
  };
  const say = (line: string): void => log(`   ${line}`);
  let env: DevnetEnvironment | undefined;
  try {
    log(`Custos demo — artifacts in ${dir}`);
    log(
      'Development network: the chain is a local anvil devnet, IPFS an embedded Helia node (both real);',
    );
    log(
      'the Ledger is EMULATED (APDU-level emulator, development mnemonic) and the enclave SIMULATED',
    );
    log('(no SGX/TDX here: its attestation is signed by this devnet’s simulation key).');

    step(1, 'Create a vault');
    const vault = await Vault.create(join(dir, 'vault'), DEMO_PASSPHRASE);
    const kit = await vault.createRecoveryKit();
    await writeFile(join(dir, 'recovery-kit.txt'), kit.text, { mode: 0o600 });
    say(
      `vault ${vault.vaultId}: Argon2id (3 passes, 256 MiB) protects its keys; recovery kit in recovery-kit.txt`,
    );

    const rows = options.patients ?? 2000;
    step(2, `Generate a synthetic patient dataset (${rows} made-up patients, FHIR R4)`);
    const records = join(dir, 'patients.ndjson');
    await writeSyntheticFile(records, 'fhir-ndjson', rows);
    say('patients.ndjson: Patient, Condition and Observation resources — no real person in it');

    step(3, 'Start the development network');
    env = await startDevnetEnvironment(join(dir, 'devnet'), vault);
    say(
      `chain ${env.devnet.rpcUrl} (chain id ${env.devnet.chainId}), registry ${env.devnet.registry}`,
    );
    say(`key-release service ${env.keyRelease.url}, journal devnet/key-release-journal.jsonl`);

    step(4, 'Encrypt and publish to IPFS');
    const stored = await storeDataset(env, records, { label: 'Cardiology cohort (synthetic)' });
    say(`container ${stored.containerId} (XChaCha20-Poly1305 secretstream, 1 MiB chunks)`);
    say(`CID ${stored.cid} — pinned on the vault’s IPFS node`);

    step(5, 'Register the dataset — signed on the Ledger (EMULATED)');
    const { signer: ledger } = emulatedLedgerSigner({
      mnemonic: DEVELOPMENT_MNEMONIC,
      user: (prompt) => {
        if (prompt.kind === 'typed-data') {
          say('Ledger (EMULATED) shows:');
          for (const f of prompt.fields) say(`    ${f.label}: ${f.value}`);
          say('  → approved on the device');
        }
        return 'approve';
      },
    });
    const owner: TypedDataSigner = {
      address: await ledger.address(),
      signTypedData: (domain, types, message) => ledger.signTypedData(domain, types, message),
    };
    say(
      `owner account ${owner.address} (the Ledger’s first account; it needs no gas: a relayer sends)`,
    );
    const deadline = async (): Promise<bigint> =>
      BigInt(((await env?.devnet.provider.getBlock('latest'))?.timestamp ?? 0) + 3600);
    const signed = await env.relayer.sign(
      owner,
      'RegisterDataset',
      { owner: owner.address, ...stored.registration },
      { deadline: await deadline() },
    );
    const registered = await env.relayer.relay(signed);
    const datasetId = registered.datasetId ?? '';
    say(`registered: dataset ${datasetId} (tx ${registered.tx.hash.slice(0, 18)}…)`);
    const operator = await env.relayer.relay(
      await env.relayer.sign(
        owner,
        'SetOperator',
        { datasetId, operator: DEVNET_OPERATOR },
        { deadline: await deadline() },
      ),
    );
    say(`key-release operator set to ${DEVNET_OPERATOR} (tx ${operator.tx.hash.slice(0, 18)}…)`);

    step(6, 'Grant the cohort-statistics app 2 runs for 30 days — signed on the Ledger (EMULATED)');
    const app = enclaveApp('cohort-stats');
    const measurement = await app.measurement();
    const now = Number((await deadline()) - 3600n);
    const grantSigned = await env.relayer.sign(
      owner,
      'Grant',
      {
        datasetId,
        grantee: RESEARCH_LAB,
        measurements: [measurement],
        notBefore: BigInt(now - 60),
        notAfter: BigInt(now + hours(24 * 30)),
        maxRuns: 2n,
        purposeHash: `0x${createHash('sha256').update('Cardiology outcomes research, protocol CARD-2026-04').digest('hex')}`,
        legalBasisHash: `0x${createHash('sha256').update('GDPR art. 9(2)(j), ethics approval EC-2026-117').digest('hex')}`,
      },
      { deadline: await deadline() },
    );
    const granted = await env.relayer.relay(grantSigned);
    const grantId = granted.grantId ?? '';
    say(`grant ${grantId}`);
    say(`allows measurement ${measurement} (cohort-stats: SHA-256 of its code bundle)`);

    step(7, 'Run the app in the SIMULATED enclave');
    const consumer = (await sodium()).boxKeypair();
    const run = await runSimulatedEnclave({
      app: app.name,
      grantId,
      params: {},
      consumerPublicKey: consumer.publicKey,
      keyReleaseUrl: env.keyRelease.url,
      ipfs: env.descriptor.ipfs,
      simulationKey: env.simulationKey,
      relayer: env.relayer,
    });
    say(
      `challenge → SIMULATED evidence bound to the enclave’s keys → openRun confirmed (run ${run.runId.slice(0, 18)}…)`,
    );
    say('→ dataset key sealed to the enclave → ciphertext fetched over IPFS and decrypted inside');
    say(
      `→ result sealed to the consumer, hash ${run.resultHash.slice(0, 18)}… signed by the enclave → closeRun (tx ${run.close.hash.slice(0, 18)}…)`,
    );
    await writeFile(join(dir, 'result.sealed'), run.sealedResult, { mode: 0o600 });

    step(8, 'The consumer opens the result');
    const opened = (await sodium()).boxSealOpen(
      run.sealedResult,
      consumer.publicKey,
      consumer.secretKey,
    );
    if (!opened) throw new CustosError('Internal', 'the consumer could not open the result');
    await writeFile(join(dir, 'result.json'), opened, { mode: 0o600 });
    const result = JSON.parse(new TextDecoder().decode(opened)) as {
      cohort: { size: number | string };
      statistics: {
        prevalence?: { code: string; count: number | string; percent: number | null }[];
      };
      suppression: { minCellSize: number };
    };
    say(
      `cohort size ${String(result.cohort.size)} (cells under ${result.suppression.minCellSize} are suppressed)`,
    );
    for (const p of (result.statistics.prevalence ?? []).slice(0, 4)) {
      say(
        `  ${p.code}: ${String(p.count)} patients${p.percent === null ? '' : ` (${p.percent} %)`}`,
      );
    }
    say('result.json: aggregates only — no patient record left the enclave');

    step(9, 'Revoke the grant — signed on the Ledger (EMULATED)');
    const revoked = await env.relayer.relay(
      await env.relayer.sign(owner, 'Revoke', { grantId }, { deadline: await deadline() }),
    );
    say(`revoked (tx ${revoked.tx.hash.slice(0, 18)}…); the grant had 1 run left`);
    try {
      await runSimulatedEnclave({
        app: app.name,
        grantId,
        consumerPublicKey: consumer.publicKey,
        keyReleaseUrl: env.keyRelease.url,
        ipfs: env.descriptor.ipfs,
        simulationKey: env.simulationKey,
        relayer: env.relayer,
      });
      throw new CustosError('Internal', 'a run was admitted after revocation');
    } catch (error) {
      if (!(error instanceof CustosError) || error.tag !== 'GrantRevoked') throw error;
      say(`second run refused: ${error.tag} — ${explain(error.tag)}`);
      say('no key left the vault: the refusal is in the key-release journal');
    }

    step(10, 'Audit trail');
    const source = {
      provider: env.devnet.provider,
      chainId: env.devnet.chainId,
      registry: env.devnet.registry,
      startBlock: env.devnet.startBlock,
    };
    const timeline: AuditTimeline = await auditDataset(source, datasetId, {
      journalPath: env.journalPath,
      devnet: true,
    });
    for (const e of timeline.entries) {
      say(
        `${(e.blockTime ?? e.wallTime ?? '').slice(0, 19)}  ${e.what}${e.simulated ? '  [SIMULATED]' : ''}`,
      );
    }
    say(`${timeline.anomalies.length} anomalies`);

    step(11, 'Export the usage proof (JSON bundle + PDF) and verify it');
    const bundle = await exportUsageProof(source, datasetId, {
      journalPath: env.journalPath,
      evidenceDir: join(env.dir, 'evidence'),
      devnet: true,
    });
    const json = JSON.stringify(bundle, null, 2);
    await writeFile(join(dir, 'usage-proof.json'), json);
    await writeFile(join(dir, 'usage-proof.pdf'), await usageProofPdf(bundle, json));
    say(
      `usage-proof.json (${bundle.events.length} chain events with receipts, Merkle proofs and headers) and usage-proof.pdf`,
    );
    const report = await verifyUsageProof(JSON.parse(json) as unknown, {
      provider: env.devnet.provider,
    });
    for (const [check, c] of Object.entries(report.checks))
      say(`  ${check}: ${c.checked - c.failed}/${c.checked} ok`);
    if (!report.ok)
      throw new CustosError(
        'ProofInvalid',
        `the exported bundle did not verify: ${report.failures[0]?.reason ?? ''}`,
      );
    say(
      'verified: every receipt proven against its block header, every block hash confirmed by the chain',
    );
    // For an auditor without access to this chain: the block hashes, read from the steward's own
    // node, to verify the bundle offline (`custos proof verify --trusted-blocks`).
    const blocks: Record<string, string> = {};
    for (const b of bundle.blocks) {
      const block = await env.devnet.provider.getBlock(b.number);
      if (block?.hash) blocks[String(b.number)] = block.hash;
    }
    await writeFile(
      join(dir, 'trusted-blocks.json'),
      `${JSON.stringify({ chainId: env.devnet.chainId, blocks }, null, 2)}\n`,
    );
    say('trusted-blocks.json: the block hashes from this node, for offline verification');

    if (options.ai) {
      let n = 11;
      await aiChapter(env, dir, say, (title) => step((n += 1), title));
    }

    log('');
    log('Demo complete.');
  } finally {
    await env?.close();
    if (!options.out) await rm(dir, { recursive: true, force: true });
  }
}
