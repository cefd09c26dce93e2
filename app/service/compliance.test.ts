/**
 * The compliance handlers on a real devnet history (app/audit/testing: anvil + registry, a grant,
 * runs opened and closed with enclave signatures, a refused release, a revocation, a journal):
 * export writes the bundle and its PDF into the vault; the exported bundle verifies (online and
 * offline, from the JSON or the PDF); a flipped byte fails the check that covers it; bad input is
 * a typed error.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Dataset as DatasetSchema,
  MAX_BUNDLE_CHARS,
  handle,
  type Dataset,
  type ProofExport,
  type ProofProgress,
  type ProofVerification,
} from '../api/index.ts';
import { buildScenario, type Scenario } from '../audit/testing.ts';
import { providerFor } from '../chain/index.ts';
import { CustosError } from '../errors/index.ts';
import { complianceHandlers, type ComplianceHandlers, type ProofSource } from './compliance.ts';
import { CustosService } from './service.ts';

let scenario: Scenario;
let dir: string;
let network: ProofSource | null;
let handlers: ComplianceHandlers;
const progress: ProofProgress[] = [];
const ID = 'ab'.repeat(16);
const UNREGISTERED = 'cd'.repeat(16);

function dataset(id: string, onChainId: string | null): Dataset {
  return DatasetSchema.parse({
    id,
    name: id === ID ? 'Cardiology cohort 2024' : 'Oncology notes',
    description: '',
    sourceName: 'cohort.csv',
    format: 'csv',
    sizeBytes: 10,
    recordCount: 1,
    columns: [],
    resourceTypes: [],
    sha256: '0'.repeat(64),
    createdAt: new Date().toISOString(),
    storage: { local: true, ipfsCid: null },
    chain: {
      registered: onChainId !== null,
      onChainId,
      txHash: null,
      registeredAt: null,
      session: onChainId === null ? null : 's',
    },
  });
}

beforeAll(async () => {
  scenario = await buildScenario();
  dir = await mkdtemp(join(tmpdir(), 'custos-compliance-'));
  const evidenceDir = join(dir, 'evidence');
  await mkdir(evidenceDir);
  await writeFile(join(evidenceDir, scenario.evidence.hash.slice(2)), scenario.evidence.bytes);
  const source: ProofSource = {
    chainId: scenario.devnet.chainId,
    registry: scenario.devnet.registry,
    startBlock: scenario.devnet.startBlock,
    provider: scenario.devnet.provider,
    journalPath: scenario.journalPath,
    evidenceDir,
  };
  network = source;
  const all = [dataset(ID, scenario.datasetId), dataset(UNREGISTERED, null)];
  handlers = complianceHandlers({
    vaultDir: join(dir, 'vault'),
    devnet: true,
    dataset: (id) => {
      const d = all.find((x) => x.id === id);
      if (!d) throw new CustosError('UnknownDataset', 'no such dataset');
      return Promise.resolve(d);
    },
    datasets: () => Promise.resolve(all),
    connected: () =>
      network
        ? Promise.resolve(network)
        : Promise.reject(new CustosError('RpcUnavailable', 'down')),
    current: () => network,
    progress: (p) => progress.push(p),
  });
}, 60_000);

afterAll(async () => {
  await scenario.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The first phase of the scenario (before the revocation, a minute later): a clean history. */
async function firstPhaseUntil(): Promise<string> {
  const block = await scenario.devnet.provider.getBlock(scenario.devnet.startBlock + 1);
  return new Date(((block?.timestamp ?? 0) + 30) * 1000).toISOString();
}

function flip(hex: string): string {
  const i = hex.length - 1;
  return `${hex.slice(0, i)}${hex[i] === '0' ? '1' : '0'}`;
}

const statusOf = (v: ProofVerification, check: string): string | undefined =>
  v.checks.find((c) => c.check === check)?.status;

async function rejects(p: Promise<unknown>): Promise<CustosError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CustosError);
  return error as CustosError;
}

describe('export', () => {
  let all: ProofExport;

  it('writes usage-proof.json and .pdf into a new folder of <vault>/exports, with a summary and its stages', async () => {
    progress.length = 0;
    all = await handlers.exportProof({ datasetId: ID, from: null, until: null });
    expect(all.folder).toBe(join(dir, 'vault', 'exports', all.folderName));
    expect(all.folderName).toMatch(/^cardiology-cohort-2024_all-time_\d{8}T\d{6}Z$/);
    const json = await readFile(all.jsonPath, 'utf8');
    expect(JSON.parse(json)).toMatchObject({ format: 'custos-usage-proof', version: 1 });
    expect(Buffer.byteLength(json)).toBe(all.jsonBytes);
    expect((await readFile(all.pdfPath)).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await stat(all.jsonPath)).mode & 0o777).toBe(0o600);
    // The scenario: two grants, three runs, one revocation, one refused release, anomalies.
    expect(all.summary).toMatchObject({ grants: 2, runs: 3, revocations: 1, refusals: 1 });
    expect(all.summary.anomalies).toBeGreaterThanOrEqual(2);
    expect(all.anomalies.map((a) => a.kind)).toContain('release-without-run');
    expect(all.simulated).toBe(true);
    expect(progress.map((p) => p.stage)).toEqual(['reading', 'report', 'saving', 'done']);
  });

  it('never overwrites: the same export a second time goes to a new folder', async () => {
    const again = await handlers.exportProof({ datasetId: ID, from: null, until: null });
    expect(again.folder).not.toBe(all.folder);
    expect(JSON.parse(await readFile(all.jsonPath, 'utf8'))).toMatchObject({
      format: 'custos-usage-proof',
    });
  });

  it('refuses an end before the start, an unregistered dataset, an empty period, a network that is down', async () => {
    expect(
      (
        await rejects(
          handlers.exportProof({
            datasetId: ID,
            from: '2026-03-01T00:00:00.000Z',
            until: '2026-02-01T00:00:00.000Z',
          }),
        )
      ).tag,
    ).toBe('UsageError');
    expect(
      (await rejects(handlers.exportProof({ datasetId: UNREGISTERED, from: null, until: null })))
        .tag,
    ).toBe('DatasetNotRegistered');
    progress.length = 0;
    const future = new Date(Date.now() + 7 * 86400_000).toISOString();
    expect(
      (await rejects(handlers.exportProof({ datasetId: ID, from: future, until: null }))).tag,
    ).toBe('PeriodEmpty');
    expect(progress.at(-1)?.stage).toBe('failed');

    const saved = network;
    network = { ...saved!, provider: providerFor('http://127.0.0.1:9', saved!.chainId) };
    try {
      expect(
        (await rejects(handlers.exportProof({ datasetId: ID, from: null, until: null }))).tag,
      ).toBe('RpcUnavailable');
    } finally {
      network.provider.destroy();
      network = saved;
    }
  });
});

describe('verify', () => {
  let clean: ProofExport;
  let json: string;

  beforeAll(async () => {
    clean = await handlers.exportProof({
      datasetId: ID,
      from: null,
      until: await firstPhaseUntil(),
    });
    json = await readFile(clean.jsonPath, 'utf8');
  });

  it('an exported bundle verifies against the running network: every check passes', async () => {
    expect(clean.folderName).toMatch(/_until-\d{4}-\d{2}-\d{2}_/);
    expect(clean.summary).toMatchObject({ grants: 1, runs: 2, revocations: 0, refusals: 1 });
    const v = await handlers.verifyProof({ fileName: 'usage-proof.json', json });
    expect(v.failures).toEqual([]);
    expect(v.verdict).toBe('verified');
    expect(v.anchor).toBe('network');
    expect(v.anchorNote).toMatch(/against the running network/);
    for (const check of [
      'format',
      'header',
      'block-anchor',
      'receipt-proof',
      'log',
      'enclave-signature',
      'journal-chain',
      'journal-match',
    ])
      expect(statusOf(v, check), check).toBe('passed');
    expect(v.scope).toMatchObject({
      datasetId: scenario.datasetId,
      datasetName: 'Cardiology cohort 2024',
    });
  });

  it('the PDF report verifies too (its attached bundle)', async () => {
    const pdf = await readFile(clean.pdfPath);
    const v = await handlers.verifyProof({
      fileName: 'usage-proof.pdf',
      pdfBase64: pdf.toString('base64'),
    });
    expect(v.fromPdf).toBe(true);
    expect(v.verdict).toBe('verified');
  });

  it('offline: the block hashes are not checked (and said so); everything else passes', async () => {
    const saved = network;
    network = null;
    try {
      const v = await handlers.verifyProof({ fileName: 'usage-proof.json', json });
      expect(v.verdict).toBe('unanchored');
      expect(v.anchor).toBe('none');
      expect(v.anchorNote).toMatch(/not connected/);
      expect(statusOf(v, 'block-anchor')).toBe('not-checked');
      expect(statusOf(v, 'chain')).toBe('not-checked');
      expect(statusOf(v, 'receipt-proof')).toBe('passed');
      expect(v.failures).toEqual([]);
    } finally {
      network = saved;
    }
  });

  it('a network that cannot be reached: checked offline, and the note says why', async () => {
    const saved = network;
    network = { ...saved!, provider: providerFor('http://127.0.0.1:9', saved!.chainId) };
    try {
      const v = await handlers.verifyProof({ fileName: 'usage-proof.json', json });
      expect(v.verdict).toBe('unanchored');
      expect(v.anchorNote).toMatch(/could not be reached/);
    } finally {
      network.provider.destroy();
      network = saved;
    }
  });

  it('a tampered byte fails the check that covers it, by name', async () => {
    const bundle = JSON.parse(json) as {
      runs: { resultHash: string | null }[];
      blocks: { header: string[] }[];
      receipts: { receipt: string }[];
    };
    const closedRun = bundle.runs.findIndex((r) => r.resultHash !== null);
    const cases: [string, (b: typeof bundle) => void][] = [
      [
        'enclave-signature',
        (b) => void (b.runs[closedRun]!.resultHash = flip(b.runs[closedRun]!.resultHash!)),
      ],
      ['header', (b) => void (b.blocks[0]!.header[2] = flip(b.blocks[0]!.header[2]!))],
      ['receipt-proof', (b) => void (b.receipts[0]!.receipt = flip(b.receipts[0]!.receipt))],
    ];
    for (const [check, tamper] of cases) {
      const copy = structuredClone(bundle);
      tamper(copy);
      const v = await handlers.verifyProof({
        fileName: 'tampered.json',
        json: JSON.stringify(copy),
      });
      expect(v.verdict, check).toBe('failed');
      expect(statusOf(v, check), check).toBe('failed');
      expect(
        v.failures.map((f) => f.check),
        check,
      ).toContain(check);
    }
    // One character of the file as an auditor would receive it: the first result hash in the text
    // is the RunClosed event's, which no longer matches its proven log.
    const at = json.indexOf('"resultHash": "0x') + '"resultHash": "0x'.length;
    const byte = `${json.slice(0, at)}${json[at] === 'a' ? 'b' : 'a'}${json.slice(at + 1)}`;
    const v = await handlers.verifyProof({ fileName: 'tampered.json', json: byte });
    expect(v.verdict).toBe('failed');
    expect(v.failures[0]?.check).toBe('log');
    expect(v.failures[0]?.reason).toMatch(/resultHash/);
  });

  it('a bundle cut short fails the format check; the checks it stops are not checked, not passed', async () => {
    const v = await handlers.verifyProof({
      fileName: 'cut.json',
      json: json.slice(0, json.indexOf('"receipts"')).replace(/,\s*$/, '}'),
    });
    expect(v.verdict).toBe('failed');
    expect(statusOf(v, 'format')).toBe('failed');
    expect(v.checks.filter((c) => c.check !== 'format').map((c) => c.status)).toEqual(
      Array(v.checks.length - 1).fill('not-checked'),
    );
  });

  it('not JSON, JSON that is not a bundle, a PDF without a bundle: BundleMalformed', async () => {
    for (const input of [
      { fileName: 'notes.txt', json: 'hello' },
      { fileName: 'other.json', json: '{"format":"something-else"}' },
      { fileName: 'scan.pdf', pdfBase64: Buffer.from('not a pdf').toString('base64') },
    ])
      expect((await rejects(handlers.verifyProof(input))).tag, input.fileName).toBe(
        'BundleMalformed',
      );
  });
});

describe('through the API', () => {
  it('a bundle larger than the limit is refused at the boundary; a locked vault cannot export', async () => {
    const service = new CustosService({ vaultDir: join(dir, 'api-vault'), kdf: 'interactive' });
    try {
      const big = await handle(service.handlers, 'verifyProof', {
        fileName: 'huge.json',
        json: ' '.repeat(MAX_BUNDLE_CHARS + 1),
      });
      expect(big.ok).toBe(false);
      if (!big.ok) expect(big.error.tag).toBe('UsageError');
      const locked = await handle(service.handlers, 'exportProof', {
        datasetId: ID,
        from: null,
        until: null,
      });
      expect(locked.ok).toBe(false);
      if (!locked.ok) expect(locked.error.tag).toBe('VaultLocked');
    } finally {
      await service.close();
    }
  });
});
