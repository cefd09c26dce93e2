import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, randomBytes } from 'ethers';
import { buildScenario, type Scenario } from '../audit/testing.ts';
import type { ChainSource } from '../audit/index.ts';
import type { CustosError } from '../errors/index.ts';
import { providerFor } from '../chain/index.ts';
import { exportUsageProof } from './export.ts';
import { verifyUsageProof, type TrustedBlocks, type VerifyReport } from './verify.ts';
import type { UsageProof } from './bundle.ts';
import { PDF_ATTACHMENT_NAME, usageProofPdf } from './pdf.ts';
import { usageProofJsonSchema } from './schema.ts';

const clone = (b: UsageProof): UsageProof => structuredClone(b);
/** Flips one hex digit at `at` (counted from the end when negative) of a 0x-hex string. */
function flip(hex: string, at: number): string {
  const i = at < 0 ? hex.length + at : 2 + at;
  const c = hex[i]!;
  return `${hex.slice(0, i)}${c === '0' ? '1' : '0'}${hex.slice(i + 1)}`;
}
const failed = (r: VerifyReport): string[] => [...new Set(r.failures.map((f) => f.check))];

describe('usage-proof bundle: export and verify against a devnet history', () => {
  let s: Scenario;
  let source: ChainSource;
  let bundle: UsageProof;
  let trusted: TrustedBlocks;

  beforeAll(async () => {
    s = await buildScenario();
    source = {
      provider: s.devnet.provider,
      chainId: s.devnet.chainId,
      registry: s.devnet.registry,
      startBlock: s.devnet.startBlock,
    };
    bundle = await exportUsageProof(source, s.datasetId, { journalPath: s.journalPath });
    const blocks: Record<string, string> = {};
    for (const b of bundle.blocks) {
      const block = await s.devnet.provider.getBlock(b.number);
      blocks[String(b.number)] = block!.hash!;
    }
    trusted = { chainId: s.devnet.chainId, blocks };
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('holds every event of the dataset with a receipt proof per transaction and a header per block', () => {
    expect(bundle.events.map((e) => e.name)).toEqual([
      'DatasetRegistered',
      'OperatorSet',
      'GrantCreated',
      'RunOpened',
      'RunClosed',
      'RunOpened',
      'GrantRevoked',
      'RunClosed',
      'GrantCreated',
      'RunOpened',
    ]);
    expect(bundle.receipts).toHaveLength(10);
    expect(bundle.blocks.every((b) => b.header.length === 21)).toBe(true);
    expect(bundle.runs.map((r) => r.resultHash === null)).toEqual([false, false, true]);
    expect(bundle.runs.every((r) => r.teeType === null || r.teeType === 'simulated')).toBe(true);
    expect(bundle.journal?.entries).toHaveLength(4);
    expect(bundle.evidence).toEqual([{ hash: s.evidence.hash, teeType: 'simulated', data: null }]);
    expect(bundle.anomalies.map((a) => a.kind).sort()).toEqual([
      'closed-after-revocation',
      'release-without-run',
      'run-without-release',
    ]);
  });

  it('verifies offline against trusted block hashes and online against the node', async () => {
    const offline = await verifyUsageProof(JSON.parse(JSON.stringify(bundle)), {
      trustedBlocks: trusted,
    });
    // the scenario's journal has a release for a run the chain never saw, and a run without release
    expect(failed(offline)).toEqual(['journal-match']);
    const clean = clone(bundle);
    clean.journal = null;
    const ok = await verifyUsageProof(clean, { trustedBlocks: trusted });
    expect(ok.failures).toEqual([]);
    expect(ok.ok).toBe(true);
    expect(ok.events).toBe(10);
    expect(ok.checks['receipt-proof'].checked).toBe(10);
    expect(ok.checks['enclave-signature'].checked).toBe(3); // every run; two closed ones with signatures
    const online = await verifyUsageProof(clean, { provider: s.devnet.provider });
    expect(online.failures).toEqual([]);
    expect(online.checks.completeness.checked).toBeGreaterThanOrEqual(10);
  });

  it('names the journal mismatches precisely', async () => {
    const r = await verifyUsageProof(bundle, { trustedBlocks: trusted });
    const reasons = r.failures.map((f) => `${f.check}: ${f.subject}: ${f.reason}`);
    expect(reasons).toContainEqual(
      expect.stringContaining(`released for run ${s.phantomRun.toLowerCase()}`),
    );
    expect(reasons).toContainEqual(
      expect.stringContaining(`run ${s.runs.unreleased.toLowerCase()}`),
    );
    expect(r.failures).toHaveLength(2);
  });

  describe('tampering makes the named check fail', () => {
    let base: UsageProof;
    beforeAll(() => {
      base = clone(bundle);
      base.journal!.entries = base.journal!.entries.slice(0, 3); // drop the phantom release
      base.journal!.prev = base.journal!.entries[0]!.prev;
    });
    const verify = (b: UsageProof): Promise<VerifyReport> =>
      verifyUsageProof(b, { trustedBlocks: trusted });

    it('a base without the journal anomalies is clean except the unreleased run', async () => {
      const r = await verify(base);
      expect(r.failures.map((f) => f.subject)).toEqual([`run ${s.runs.unreleased.toLowerCase()}`]);
    });

    const cases: [string, (b: UsageProof) => void, string][] = [
      [
        'a log field (grantee)',
        (b) => {
          b.events[2]!.args['grantee'] = '0x' + '11'.repeat(20);
        },
        'log',
      ],
      [
        'a receipt byte',
        (b) => {
          b.receipts[3]!.receipt = flip(b.receipts[3]!.receipt, -3);
        },
        'receipt-proof',
      ],
      [
        'a header field (timestamp)',
        (b) => {
          b.blocks[1]!.header[11] = flip(b.blocks[1]!.header[11]!, -1);
        },
        'header',
      ],
      [
        'a header field (receiptsRoot)',
        (b) => {
          b.blocks[1]!.header[5] = flip(b.blocks[1]!.header[5]!, 0);
        },
        'header',
      ],
      [
        'a proof node',
        (b) => {
          const p = b.receipts[4]!.proof;
          p[p.length - 1] = flip(p[p.length - 1]!, -5);
        },
        'receipt-proof',
      ],
      [
        'an enclave signature',
        (b) => {
          b.runs[0]!.enclaveSignature = flip(b.runs[0]!.enclaveSignature!, 10);
        },
        'enclave-signature',
      ],
      [
        'a result hash',
        (b) => {
          b.runs[1]!.resultHash = flip(b.runs[1]!.resultHash!, 3);
        },
        'enclave-signature',
      ],
      [
        'a journal entry',
        (b) => {
          (b.journal!.entries[1]!.record as Record<string, unknown>)['client'] = '10.6.6.6';
        },
        'journal-chain',
      ],
      [
        'a journal entry removed',
        (b) => {
          b.journal!.entries.splice(1, 1);
        },
        'journal-chain',
      ],
      [
        'two events swapped',
        (b) => {
          [b.events[5], b.events[6]] = [b.events[6]!, b.events[5]!];
        },
        'order',
      ],
      [
        'a run opening removed',
        (b) => {
          b.events.splice(3, 1);
        },
        'completeness',
      ],
      [
        'a block hash',
        (b) => {
          b.blocks[0]!.hash = flip(b.blocks[0]!.hash, 7);
        },
        'header',
      ],
      [
        'evidence bytes that do not match',
        (b) => {
          b.evidence[0]!.data = Buffer.from('forged').toString('base64');
        },
        'evidence',
      ],
      [
        'the chain id',
        (b) => {
          b.chainId = 1;
        },
        'chain',
      ],
      [
        'the format version',
        (b) => {
          (b as { version: number }).version = 2;
        },
        'format',
      ],
    ];
    for (const [what, tamper, check] of cases) {
      it(`${what} → ${check}`, async () => {
        const b = clone(base);
        tamper(b);
        const r = await verify(b);
        expect(r.ok).toBe(false);
        expect(failed(r)).toContain(check);
        const f = r.failures.find((x) => x.check === check)!;
        expect(f.reason.length).toBeGreaterThan(10);
      });
    }

    it('a removed grant or run opening is found offline from the numbering', async () => {
      const noGrant = clone(base);
      noGrant.events = noGrant.events.filter((e, i) => !(e.name === 'GrantCreated' && i === 2));
      const r1 = await verify(noGrant);
      expect(r1.failures.map((f) => f.reason)).toContainEqual(
        expect.stringContaining('grant 1 is missing'),
      );
      // the last run of the first grant (and its close): the numbering cannot see it, the
      // journal's release for it can
      const noRun = clone(base);
      const runId = String(noRun.events[5]!.args['runId']);
      noRun.events = noRun.events.filter((e) => e.args['runId'] !== runId);
      noRun.runs = noRun.runs.filter((r) => r.runId !== runId);
      const r2 = await verify(noRun);
      expect(failed(r2)).not.toContain('completeness');
      expect(r2.failures.map((f) => f.reason)).toContainEqual(
        expect.stringContaining(`released for run ${runId}`),
      );
      // the first run of that grant: the numbering sees the gap
      const noFirst = clone(base);
      const first = String(noFirst.events[3]!.args['runId']);
      noFirst.events = noFirst.events.filter((e) => e.args['runId'] !== first);
      noFirst.runs = noFirst.runs.filter((r) => r.runId !== first);
      const r3 = await verify(noFirst);
      expect(r3.failures.map((f) => f.reason)).toContainEqual(
        expect.stringContaining('run 0 is missing'),
      );
    });

    it('a removed event the bundle cannot see is found online', async () => {
      const b = clone(base);
      b.events = b.events.filter((e) => e.name !== 'GrantRevoked');
      const offline = await verify(b);
      expect(failed(offline)).not.toContain('completeness');
      const online = await verifyUsageProof(b, { provider: s.devnet.provider });
      expect(online.failures.find((f) => f.check === 'completeness')?.reason).toContain(
        'GrantRevoked',
      );
    });

    it('a bundle for another chain fails online and against another chain’s trusted blocks', async () => {
      const r = await verifyUsageProof(base, { trustedBlocks: { ...trusted, chainId: 1 } });
      expect(failed(r)).toContain('chain');
    });

    it('no trusted source: block-anchor fails, never a silent pass', async () => {
      const r = await verifyUsageProof(base);
      expect(r.ok).toBe(false);
      expect(r.anchor).toBe('none');
      expect(r.failures).toEqual([
        expect.objectContaining({ check: 'block-anchor', subject: 'bundle' }),
        expect.objectContaining({ check: 'journal-match' }), // the unreleased run of the scenario
      ]);
    });
  });

  it('evidence bytes, when given, are embedded and checked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-evidence-'));
    await writeFile(join(dir, s.evidence.hash.slice(2)), s.evidence.bytes);
    const b = await exportUsageProof(source, s.datasetId, { evidenceDir: dir });
    expect(b.evidence[0]?.data).toBe(Buffer.from(s.evidence.bytes).toString('base64'));
    expect((await verifyUsageProof(b, { trustedBlocks: trusted })).ok).toBe(true);
  });

  it('a period with no events and an unknown dataset are refused by name', async () => {
    const empty = await exportUsageProof(source, s.datasetId, {
      from: new Date('2001-01-01'),
      to: new Date('2001-02-01'),
    }).catch((e: unknown) => e);
    expect((empty as CustosError).tag).toBe('NotFound');
    const unknown = await exportUsageProof(
      source,
      `${hexlify(randomBytes(24))}${'0'.repeat(16)}`,
    ).catch((e: unknown) => e);
    expect((unknown as CustosError).tag).toBe('DatasetNotRegistered');
  });

  it('a period exports only its events, with the openings and grants that explain them as context', async () => {
    const closeLate = bundle.events[7]!; // RunClosed after the revocation
    const block = await s.devnet.provider.getBlock(closeLate.block);
    const at = new Date(block!.timestamp * 1000);
    const b = await exportUsageProof(source, s.datasetId, { from: at, to: at });
    const inPeriod = b.events.filter((e) => !e.context).map((e) => e.name);
    expect(inPeriod).toContain('RunClosed');
    expect(b.events.filter((e) => e.context).map((e) => e.name)).toEqual(
      expect.arrayContaining(['RunOpened', 'GrantCreated']),
    );
    const r = await verifyUsageProof(b, { provider: s.devnet.provider });
    expect(r.failures.filter((f) => f.check !== 'journal-match')).toEqual([]);
  });

  it('after a reorg the node disagrees on a block hash: block-anchor fails', async () => {
    const provider = s.devnet.provider;
    const snapshot = (await provider.send('evm_snapshot', [])) as string;
    // a run closed in a block that will be replaced
    const signature = await s.asRelayer.signRunResult(
      s.enclave,
      s.runs.unreleased,
      `0x${'77'.repeat(32)}`,
    );
    await s.asRelayer.closeRun(s.runs.unreleased, `0x${'77'.repeat(32)}`, signature);
    const before = await exportUsageProof(source, s.datasetId, {});
    await provider.send('evm_revert', [snapshot]);
    await provider.send('evm_mine', []); // another block at that height
    await provider.send('evm_mine', []);
    const fresh = providerFor(s.devnet.rpcUrl, s.devnet.chainId);
    const r = await verifyUsageProof(before, { provider: fresh });
    fresh.destroy();
    const anchorFailure = r.failures.find((f) => f.check === 'block-anchor');
    expect(anchorFailure?.reason).toMatch(/the node has 0x[0-9a-f]{64} for block \d+/);
  });
});

describe('PDF report', () => {
  let s: Scenario;
  let bundle: UsageProof;
  let dir: string;
  beforeAll(async () => {
    s = await buildScenario();
    bundle = await exportUsageProof(
      {
        provider: s.devnet.provider,
        chainId: s.devnet.chainId,
        registry: s.devnet.registry,
        startBlock: s.devnet.startBlock,
      },
      s.datasetId,
      { journalPath: s.journalPath },
    );
    dir = await mkdtemp(join(tmpdir(), 'custos-pdf-'));
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('embeds the bundle as an attachment that poppler extracts byte for byte', async () => {
    const json = JSON.stringify(bundle, null, 2);
    const pdf = join(dir, 'report.pdf');
    await writeFile(pdf, await usageProofPdf(bundle, json));
    const list = execFileSync('pdfdetach', ['-list', pdf], { encoding: 'utf8' });
    expect(list).toContain(PDF_ATTACHMENT_NAME);
    const out = join(dir, 'extracted.json');
    execFileSync('pdfdetach', ['-save', '1', '-o', out, pdf]);
    expect(await readFile(out, 'utf8')).toBe(json);
    const again = await verifyUsageProof(JSON.parse(await readFile(out, 'utf8')), {
      provider: s.devnet.provider,
    });
    expect(again.checks.header.failed).toBe(0);
    expect(again.checks['receipt-proof'].failed).toBe(0);
  });

  it('says SIMULATED where the evidence is simulated, and only there', async () => {
    const pdf = join(dir, 'simulated.pdf');
    await writeFile(pdf, await usageProofPdf(bundle));
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    expect(text).toContain('SIMULATED: some runs in this report used the simulated enclave');
    expect(text.match(/SIMULATED/g)?.length).toBeGreaterThanOrEqual(3); // banner, runs, evidence
    expect(text).toContain('Grants and revocations');
    expect(text).toContain('closed-after-revocation');
    expect(text).toContain('How to verify');
    execFileSync('pdftoppm', ['-png', '-r', '70', '-f', '1', '-l', '1', pdf, join(dir, 'page')]);
    expect((await readFile(join(dir, 'page-1.png'))).subarray(1, 4).toString()).toBe('PNG');

    const real = structuredClone(bundle);
    for (const r of real.runs) r.teeType = 'sgx';
    for (const e of real.evidence) e.teeType = 'sgx';
    const sgxPdf = join(dir, 'sgx.pdf');
    await writeFile(sgxPdf, await usageProofPdf(real));
    const sgxText = execFileSync('pdftotext', ['-layout', sgxPdf, '-'], { encoding: 'utf8' });
    expect(sgxText).not.toContain('SIMULATED');
    expect(sgxText).toContain('SGX');
  });
});

describe('JSON Schema', () => {
  it('docs/usage-proof.schema.json is the one generated from the bundle schema (run node app/proofs/schema.ts)', async () => {
    const file = JSON.parse(
      await readFile(join(import.meta.dirname, '../../docs/usage-proof.schema.json'), 'utf8'),
    ) as unknown;
    expect(file).toEqual(usageProofJsonSchema());
    expect(usageProofJsonSchema()['required']).toEqual(
      expect.arrayContaining(['format', 'version', 'blocks', 'receipts', 'events', 'journal']),
    );
  });
});

describe('any changed hex digit in a proven field fails verification (property)', () => {
  let s: Scenario;
  let bundle: UsageProof;
  let trusted: TrustedBlocks;
  beforeAll(async () => {
    s = await buildScenario();
    bundle = await exportUsageProof(
      {
        provider: s.devnet.provider,
        chainId: s.devnet.chainId,
        registry: s.devnet.registry,
        startBlock: s.devnet.startBlock,
      },
      s.datasetId,
    );
    trusted = {
      chainId: s.devnet.chainId,
      blocks: Object.fromEntries(bundle.blocks.map((b) => [String(b.number), b.hash])),
    };
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** Every proven hex string of the bundle, as a path to it (txHash and anomalies are not proven). */
  function provenPaths(b: UsageProof): (string | number)[][] {
    const out: (string | number)[][] = [];
    b.blocks.forEach((x, i) => {
      out.push(['blocks', i, 'hash']);
      x.header.forEach((f, j) => {
        if (f.length > 2) out.push(['blocks', i, 'header', j]);
      });
    });
    b.receipts.forEach((x, i) => {
      out.push(['receipts', i, 'receipt']);
      x.proof.forEach((_, j) => out.push(['receipts', i, 'proof', j]));
    });
    b.events.forEach((x, i) => {
      for (const [k, v] of Object.entries(x.args))
        if (typeof v === 'string' && v.startsWith('0x') && v.length > 2)
          out.push(['events', i, 'args', k]);
    });
    b.runs.forEach((x, i) => {
      for (const k of ['runId', 'grantId', 'enclaveKey', 'resultHash', 'enclaveSignature'] as const)
        if (x[k] !== null) out.push(['runs', i, k]);
    });
    b.evidence.forEach((_, i) => out.push(['evidence', i, 'hash']));
    return out;
  }

  it('the clean bundle verifies', async () => {
    expect((await verifyUsageProof(bundle, { trustedBlocks: trusted })).failures).toEqual([]);
  });

  it('flipping one hex digit of any proven field makes ok false', async () => {
    const paths = provenPaths(bundle);
    expect(paths.length).toBeGreaterThan(200);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: paths.length - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        async (which, where) => {
          const b = clone(bundle) as unknown as Record<string, unknown>;
          const path = paths[which]!;
          let parent: Record<string | number, unknown> = b;
          for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
          const last = path.at(-1)!;
          const value = parent[last] as string;
          parent[last] = flip(value, Math.floor(where * (value.length - 2)));
          const r = await verifyUsageProof(b, { trustedBlocks: trusted });
          return !r.ok;
        },
      ),
      { numRuns: 150 },
    );
  });
});
