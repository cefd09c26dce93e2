/**
 * Linked runs on a real devnet: a two-party enclave run (a hospital's records and a provider's
 * model) opens one run per dataset with the same enclave key and closes both with the same result
 * hash, each signed by the enclave (EIP-712 RunResult). Each owner's timeline and bundle must show
 * the other's run; unrelated runs must not be linked.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet, hexlify, keccak256, randomBytes, toUtf8Bytes } from 'ethers';
import { DEVNET_KEYS, RegistryClient, startDevnet, type Devnet } from '../chain/index.ts';
import { auditDataset, type AuditTimeline, type ChainSource } from '../audit/index.ts';
import { exportUsageProof } from './export.ts';
import { verifyUsageProof, type TrustedBlocks, type VerifyReport } from './verify.ts';
import type { UsageProof } from './bundle.ts';
import { usageProofPdf } from './pdf.ts';

const MEASUREMENT = keccak256(toUtf8Bytes('infer v1'));
/** anvil's fourth default account: the model provider, a second owner. */
const PROVIDER_KEY = '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6';
const h = (s: string): string => keccak256(toUtf8Bytes(s));
const failed = (r: VerifyReport): string[] => [...new Set(r.failures.map((f) => f.check))];
function flip(hex: string, at: number): string {
  const i = at < 0 ? hex.length + at : 2 + at;
  return `${hex.slice(0, i)}${hex[i] === '0' ? '1' : '0'}${hex.slice(i + 1)}`;
}

describe('linked runs of a two-party enclave run', () => {
  let devnet: Devnet;
  let source: ChainSource;
  let records: string; // the hospital's dataset
  let model: string; // the provider's dataset
  let alone: string; // a third dataset with one run of its own
  let grants: { records: string; model: string };
  /** The two-party run (one enclave key, one result); two unrelated runs; two runs of one enclave key closed apart. */
  let runs: {
    records: string;
    model: string;
    recordsOther: string;
    modelOther: string;
    recordsReused: string;
    modelReused: string;
  };
  let enclave: Wallet;
  let result: string;
  let bundles: { records: UsageProof; model: UsageProof; alone: UsageProof };
  let trusted: TrustedBlocks;
  let timelines: { records: AuditTimeline; model: AuditTimeline };

  beforeAll(async () => {
    devnet = await startDevnet();
    const base = {
      provider: devnet.provider,
      registry: devnet.registry,
      chainId: devnet.chainId,
      pollMs: 10,
    };
    const hospital = new RegistryClient({
      ...base,
      sender: new Wallet(DEVNET_KEYS.owner, devnet.provider),
    });
    const provider = hospital.withSender(new Wallet(PROVIDER_KEY, devnet.provider));
    const operator = hospital.withSender(new Wallet(DEVNET_KEYS.operator, devnet.provider));
    const relayer = hospital.withSender(new Wallet(DEVNET_KEYS.relayer, devnet.provider));
    const operatorAddress = new Wallet(DEVNET_KEYS.operator).address;
    const now = BigInt((await devnet.provider.getBlock('latest'))!.timestamp);

    const register = async (owner: RegistryClient, name: string): Promise<[string, string]> => {
      const { datasetId } = await owner.registerDataset({
        containerId: hexlify(randomBytes(16)),
        cid: `0x01551220${'ab'.repeat(32)}`,
        ciphertextHash: h(`${name} ciphertext`),
        metadataHash: h(`${name} metadata`),
      });
      await owner.setOperator(datasetId, operatorAddress);
      const { grantId } = await owner.grant({
        datasetId,
        grantee: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        measurements: [MEASUREMENT],
        notBefore: now - 10n,
        notAfter: now + 86_400n,
        maxRuns: 10n,
        purposeHash: h('risk distribution'),
        legalBasisHash: h('consent'),
      });
      return [datasetId, grantId];
    };
    const [recordsId, recordsGrant] = await register(hospital, 'records');
    const [modelId, modelGrant] = await register(provider, 'model');
    const [aloneId, aloneGrant] = await register(hospital, 'alone');
    records = recordsId.toLowerCase();
    model = modelId.toLowerCase();
    alone = aloneId.toLowerCase();
    grants = { records: recordsGrant.toLowerCase(), model: modelGrant.toLowerCase() };

    const open = async (grantId: string, key: Wallet): Promise<string> =>
      (
        await operator.openRun({
          grantId,
          measurement: MEASUREMENT,
          evidenceHash: h(`evidence of ${key.address}`),
          enclaveKey: key.address,
        })
      ).runId.toLowerCase();
    const close = async (runId: string, key: Wallet, resultHash: string): Promise<void> => {
      await relayer.closeRun(
        runId,
        resultHash,
        await relayer.signRunResult(key, runId, resultHash),
      );
    };
    const fresh = (): Wallet => new Wallet(hexlify(randomBytes(32)));

    // the two-party run: one enclave key, both runs, one result document naming both run ids
    enclave = fresh();
    const r = await open(recordsGrant, enclave);
    const m = await open(modelGrant, enclave);
    result = h(`aggregate risk distribution; runs ${r} ${m}`);
    await close(r, enclave, result);
    await close(m, enclave, result);
    // unrelated runs: different enclave keys, different results
    const [k1, k2] = [fresh(), fresh()];
    const ro = await open(recordsGrant, k1);
    const mo = await open(modelGrant, k2);
    await close(ro, k1, h('result of another run'));
    await close(mo, k2, h('result of yet another run'));
    // one enclave key reused for two enclave runs that closed with different results
    const reused = fresh();
    const rr = await open(recordsGrant, reused);
    const mr = await open(modelGrant, reused);
    await close(rr, reused, h('first result of the reused key'));
    await close(mr, reused, h('second result of the reused key'));
    const own = fresh();
    await close(await open(aloneGrant, own), own, h('a result of its own'));
    runs = {
      records: r,
      model: m,
      recordsOther: ro,
      modelOther: mo,
      recordsReused: rr,
      modelReused: mr,
    };

    source = {
      provider: devnet.provider,
      chainId: devnet.chainId,
      registry: devnet.registry,
      startBlock: devnet.startBlock,
    };
    timelines = {
      records: await auditDataset(source, records),
      model: await auditDataset(source, model),
    };
    bundles = {
      records: await exportUsageProof(source, records),
      model: await exportUsageProof(source, model),
      alone: await exportUsageProof(source, alone),
    };
    const blocks: Record<string, string> = {};
    for (const b of [...bundles.records.blocks, ...bundles.model.blocks, ...bundles.alone.blocks])
      blocks[String(b.number)] = (await devnet.provider.getBlock(b.number))!.hash!;
    trusted = { chainId: devnet.chainId, blocks };
  });
  afterAll(async () => {
    await devnet?.stop();
  });

  it("each dataset's timeline links the other's run, on the opening and the closing", () => {
    const cases = [
      [timelines.records, runs.records, runs.model, model, grants.model],
      [timelines.model, runs.model, runs.records, records, grants.records],
    ] as const;
    for (const [timeline, own, other, otherDataset, otherGrant] of cases) {
      const entries = timeline.entries.filter((e) => e.runId === own);
      expect(entries.map((e) => e.kind)).toEqual(['run-opened', 'run-closed']);
      for (const e of entries) {
        expect(e.linkedRuns).toEqual([
          {
            runId: other,
            datasetId: otherDataset,
            grantId: otherGrant,
            enclaveKey: enclave.address.toLowerCase(),
            resultHash: result,
            by: ['enclave-key', 'result-hash'],
          },
        ]);
        expect(e.what).toContain(
          `run ${other.slice(0, 10)}… with dataset ${otherDataset.slice(0, 10)}…`,
        );
        expect(e.what).toContain('in the same enclave run');
      }
    }
  });

  it('does not link runs with different enclave keys, nor one key closed with different results', () => {
    for (const timeline of [timelines.records, timelines.model]) {
      const linkedRunIds = timeline.entries.filter((e) => e.linkedRuns.length > 0);
      expect(new Set(linkedRunIds.map((e) => e.runId)).size).toBe(1);
      for (const e of timeline.entries)
        if (
          [runs.recordsOther, runs.modelOther, runs.recordsReused, runs.modelReused].includes(
            e.runId ?? '',
          )
        )
          expect(e.linkedRuns).toEqual([]);
    }
  });

  it("each bundle carries the other's run as linked context, and verifies offline and online", async () => {
    for (const [bundle, own, other, otherDataset] of [
      [bundles.records, runs.records, runs.model, model],
      [bundles.model, runs.model, runs.records, records],
    ] as const) {
      expect(bundle.linkedRuns).toHaveLength(1);
      expect(bundle.linkedRuns![0]).toMatchObject({
        linkedTo: own,
        runId: other,
        datasetId: otherDataset,
        enclaveKey: enclave.address.toLowerCase(),
        resultHash: result,
        by: ['enclave-key', 'result-hash'],
      });
      const linked = bundle.events.filter((e) => e.linked);
      expect(linked.map((e) => [e.name, e.args['runId'], e.context])).toEqual([
        ['RunOpened', other, true],
        ['RunClosed', other, true],
      ]);
      // the linked events have their receipts and headers in the bundle
      for (const e of linked) {
        expect(bundle.receipts.some((r) => r.block === e.block && r.txIndex === e.txIndex)).toBe(
          true,
        );
        expect(bundle.blocks.some((b) => b.number === e.block)).toBe(true);
      }
      const offline = await verifyUsageProof(JSON.parse(JSON.stringify(bundle)), {
        trustedBlocks: trusted,
      });
      expect(offline.failures).toEqual([]);
      // the linked run's entry, and each of its two events
      expect(offline.checks['linked-run']).toEqual({ checked: 4, failed: 0 });
      const online = await verifyUsageProof(bundle, { provider: devnet.provider });
      expect(online.failures).toEqual([]);
    }
  });

  it('a bundle without linked runs has neither linkedRuns nor linked events (format unchanged)', async () => {
    expect('linkedRuns' in bundles.alone).toBe(false);
    expect(bundles.alone.events.every((e) => !('linked' in e))).toBe(true);
    const r = await verifyUsageProof(bundles.alone, { trustedBlocks: trusted });
    expect(r.failures).toEqual([]);
    expect(r.checks['linked-run'].checked).toBe(0);
  });

  describe('tampering with the linked run fails the named check', () => {
    const linkedEvent = (b: UsageProof, name: string): UsageProof['events'][number] =>
      b.events.find((e) => e.linked && e.name === name)!;
    const cases: [string, (b: UsageProof) => void, string][] = [
      [
        "the linked RunOpened's receipt",
        (b) => {
          const e = linkedEvent(b, 'RunOpened');
          const r = b.receipts.find((x) => x.block === e.block && x.txIndex === e.txIndex)!;
          r.receipt = flip(r.receipt, -3);
        },
        'receipt-proof',
      ],
      [
        "a proof node of the linked RunClosed's receipt",
        (b) => {
          const e = linkedEvent(b, 'RunClosed');
          const r = b.receipts.find((x) => x.block === e.block && x.txIndex === e.txIndex)!;
          r.proof[0] = flip(r.proof[0]!, 10);
        },
        'receipt-proof',
      ],
      [
        "the linked RunOpened's header",
        (b) => {
          const e = linkedEvent(b, 'RunOpened');
          const block = b.blocks.find((x) => x.number === e.block)!;
          block.header[5] = flip(block.header[5]!, 4);
        },
        'header',
      ],
      [
        "the linked RunOpened's enclave key argument",
        (b) => {
          linkedEvent(b, 'RunOpened').args['enclaveKey'] = '0x' + '22'.repeat(20);
        },
        'log',
      ],
      [
        "the linked run's enclave key in linkedRuns",
        (b) => {
          b.linkedRuns![0]!.enclaveKey = '0x' + '22'.repeat(20);
        },
        'linked-run',
      ],
      [
        "the linked run's result hash in linkedRuns",
        (b) => {
          b.linkedRuns![0]!.resultHash = flip(b.linkedRuns![0]!.resultHash!, 5);
        },
        'linked-run',
      ],
      [
        "the linked run's signature in linkedRuns",
        (b) => {
          b.linkedRuns![0]!.enclaveSignature = flip(b.linkedRuns![0]!.enclaveSignature!, 7);
        },
        'linked-run',
      ],
      [
        "the linked run's signature, in linkedRuns and in its RunClosed",
        (b) => {
          const sig = flip(b.linkedRuns![0]!.enclaveSignature!, 7);
          b.linkedRuns![0]!.enclaveSignature = sig;
          linkedEvent(b, 'RunClosed').args['enclaveSignature'] = sig;
        },
        'log',
      ],
      [
        'the linked RunOpened removed',
        (b) => {
          b.events = b.events.filter((e) => !(e.linked && e.name === 'RunOpened'));
        },
        'linked-run',
      ],
      [
        'a link to a run of the dataset with a different enclave key',
        (b) => {
          b.linkedRuns![0]!.linkedTo = runs.recordsOther;
        },
        'linked-run',
      ],
      [
        'a link whose reason is overstated',
        (b) => {
          b.events = b.events.filter((e) => !(e.linked && e.name === 'RunClosed'));
          b.linkedRuns![0]!.resultHash = null;
          b.linkedRuns![0]!.enclaveSignature = null;
        },
        'linked-run',
      ],
      [
        'the linked flag taken off an event of the other dataset',
        (b) => {
          delete linkedEvent(b, 'RunOpened').linked;
        },
        'log',
      ],
    ];
    for (const [what, tamper, check] of cases)
      it(what, async () => {
        const b = structuredClone(bundles.records);
        tamper(b);
        const r = await verifyUsageProof(b, { trustedBlocks: trusted });
        expect(r.ok).toBe(false);
        expect(failed(r)).toContain(check);
      });

    it('the verifier names the unlinked run', async () => {
      const b = structuredClone(bundles.records);
      b.linkedRuns![0]!.linkedTo = runs.recordsOther;
      const r = await verifyUsageProof(b, { trustedBlocks: trusted });
      expect(r.failures).toContainEqual(
        expect.objectContaining({
          check: 'linked-run',
          subject: `linked run ${runs.model} of run ${runs.recordsOther}`,
          reason: expect.stringContaining('not linked') as unknown,
        }),
      );
    });
  });

  it('flipping one hex digit of any field of the linked run or its proof makes ok false (property)', async () => {
    const b0 = bundles.records;
    const paths: (string | number)[][] = [];
    b0.linkedRuns!.forEach((l, i) => {
      for (const k of [
        'linkedTo',
        'runId',
        'datasetId',
        'grantId',
        'enclaveKey',
        'resultHash',
        'enclaveSignature',
      ] as const)
        if (l[k] !== null) paths.push(['linkedRuns', i, k]);
    });
    b0.events.forEach((e, i) => {
      if (!e.linked) return;
      for (const [k, v] of Object.entries(e.args))
        if (typeof v === 'string' && v.startsWith('0x')) paths.push(['events', i, 'args', k]);
      const r = b0.receipts.findIndex((x) => x.block === e.block && x.txIndex === e.txIndex);
      paths.push(['receipts', r, 'receipt']);
      b0.receipts[r]!.proof.forEach((_, j) => paths.push(['receipts', r, 'proof', j]));
      const h = b0.blocks.findIndex((x) => x.number === e.block);
      paths.push(['blocks', h, 'hash']);
      b0.blocks[h]!.header.forEach((f, j) => {
        if (f.length > 2) paths.push(['blocks', h, 'header', j]);
      });
    });
    expect(paths.length).toBeGreaterThan(40);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: paths.length - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        async (which, where) => {
          const b = structuredClone(b0) as unknown as Record<string, unknown>;
          const path = paths[which]!;
          let parent: Record<string | number, unknown> = b;
          for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
          const last = path.at(-1)!;
          const value = parent[last] as string;
          parent[last] = flip(value, Math.floor(where * (value.length - 2)));
          return !(await verifyUsageProof(b, { trustedBlocks: trusted })).ok;
        },
      ),
      { numRuns: 120 },
    );
  });

  it('the PDF lists the linked run under its run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-linked-'));
    const pdf = join(dir, 'records.pdf');
    await writeFile(pdf, await usageProofPdf(bundles.records));
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    expect(text).toContain(`linked to run ${runs.model.slice(0, 12)}`);
    expect(text).toContain(`of dataset ${model.slice(0, 12)}`);
    expect(text).toContain('(+1 linked runs of other datasets)');
  });
});
