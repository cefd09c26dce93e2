import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.ts';
import {
  auditDataset,
  parseJournalText,
  readDatasetHistory,
  readJournalForAudit,
} from './index.ts';
import { buildTimeline, type AuditTimeline } from './timeline.ts';
import { Interface } from 'ethers';
import { custosRegistryAbi } from '../chain/abi.generated.ts';
import { decodeRegistryLog } from '../chain/index.ts';
import { buildScenario, type Scenario } from './testing.ts';

describe('audit timeline from a devnet history and a key-release journal', () => {
  let s: Scenario;
  let source: Parameters<typeof auditDataset>[0];
  let timeline: AuditTimeline;

  beforeAll(async () => {
    s = await buildScenario();
    source = {
      provider: s.devnet.provider,
      chainId: s.devnet.chainId,
      registry: s.devnet.registry,
      startBlock: s.devnet.startBlock,
    };
    timeline = await auditDataset(source, s.datasetId, { journalPath: s.journalPath });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('has every chain event and journal record, in order, with who, when, grant, run and TEE type', () => {
    expect(timeline.entries.map((e) => e.kind)).toEqual([
      'dataset-registered',
      'operator-set',
      'grant-created',
      'run-opened',
      'key-released',
      'run-closed',
      'run-opened',
      'key-released',
      'key-refused',
      'grant-revoked',
      'run-closed',
      'grant-created',
      'run-opened',
      'key-released', // the phantom release, naming the last block
    ]);
    const kinds = timeline.entries.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'key-released')).toHaveLength(3);
    // the scenario's runs share one enclave key, but they are runs of one dataset: none is linked
    expect(timeline.entries.filter((e) => e.linkedRuns.length > 0)).toEqual([]);
    const opened = timeline.entries.find(
      (e) => e.runId === s.runs.closed && e.kind === 'run-opened',
    )!;
    expect(opened.who).toBe(s.operator.address.toLowerCase());
    expect(opened.grantId).toBe(s.grants.first.toLowerCase());
    expect(opened.teeType).toBe('simulated');
    expect(opened.simulated).toBe(true);
    expect(opened.blockTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(opened.wallTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(opened.evidence.evidenceHash).toBe(s.evidence.hash);
    expect(opened.evidence.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const registered = timeline.entries[0]!;
    expect(registered.who).toBe(s.owner.address.toLowerCase());
    const refused = timeline.entries.find((e) => e.kind === 'key-refused')!;
    expect(refused.what).toContain('MeasurementNotAllowed');
    expect(refused.evidence.journalSeq).toBe(2);
  });

  it('places a release right after the run it names and chain events in chain order', () => {
    const ids = timeline.entries.map((e) => e.id);
    const opened = timeline.entries.findIndex(
      (e) => e.kind === 'run-opened' && e.runId === s.runs.closedLate,
    );
    expect(timeline.entries[opened + 1]?.kind).toBe('key-released');
    const chainBlocks = timeline.entries
      .filter((e) => e.source === 'chain')
      .map((e) => e.blockNumber!);
    expect([...chainBlocks].sort((a, b) => a - b)).toEqual(chainBlocks);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('flags a close after revocation, a release without a run and a run without a release', () => {
    const kinds = timeline.anomalies.map((a) => `${a.kind}:${a.runId}`);
    expect(kinds).toContain(`closed-after-revocation:${s.runs.closedLate.toLowerCase()}`);
    expect(kinds).toContain(`release-without-run:${s.phantomRun.toLowerCase()}`);
    expect(kinds).toContain(`run-without-release:${s.runs.unreleased.toLowerCase()}`);
    expect(timeline.anomalies.map((a) => a.kind)).not.toContain(
      'closed-after-revocation:' + s.runs.closed,
    );
    const late = timeline.entries.find(
      (e) => e.kind === 'run-closed' && e.runId === s.runs.closedLate.toLowerCase(),
    );
    expect(late?.anomalies).toContain('closed-after-revocation');
    const normal = timeline.entries.find(
      (e) => e.kind === 'run-closed' && e.runId === s.runs.closed.toLowerCase(),
    );
    expect(normal?.anomalies).toEqual([]);
    // on the devnet, simulated evidence is expected; the journal chain is intact
    expect(timeline.anomalies.map((a) => a.kind)).not.toContain('simulated-outside-devnet');
    expect(timeline.anomalies.map((a) => a.kind)).not.toContain('journal-broken');
  });

  it('flags a run not closed within the expected time only once that time has passed on-chain', async () => {
    expect(timeline.anomalies.map((a) => a.kind)).not.toContain('run-not-closed');
    await s.devnet.provider.send('evm_increaseTime', [2 * 86_400]);
    await s.devnet.provider.send('evm_mine', []);
    const later = await auditDataset(source, s.datasetId, { journalPath: s.journalPath });
    const notClosed = later.anomalies.filter((a) => a.kind === 'run-not-closed');
    expect(notClosed.map((a) => a.runId)).toEqual([s.runs.unreleased.toLowerCase()]);
    const withLongerExpectation = await auditDataset(source, s.datasetId, {
      journalPath: s.journalPath,
      expectedRunSeconds: 7 * 86_400,
    });
    expect(withLongerExpectation.anomalies.map((a) => a.kind)).not.toContain('run-not-closed');
  });

  it('flags simulated evidence when the chain is not a development network', async () => {
    const history = await readDatasetHistory(source, s.datasetId);
    const journal = await readJournalForAudit(s.journalPath);
    const t = buildTimeline(history, {
      chainId: s.devnet.chainId,
      registry: s.devnet.registry,
      journal,
      devnet: false,
    });
    const flagged = t.anomalies.filter((a) => a.kind === 'simulated-outside-devnet');
    expect(flagged).toHaveLength(4); // every journal record of this dataset is simulated
    expect(t.entries.filter((e) => e.anomalies.includes('simulated-outside-devnet'))).toHaveLength(
      4,
    );
  });

  it('flags a journal whose hash chain breaks and still shows its entries', async () => {
    const text = await readFile(s.journalPath, 'utf8');
    const lines = text.trimEnd().split('\n');
    const edited = JSON.parse(lines[1]!) as { record: { client: string } };
    edited.record.client = '10.0.0.66';
    lines[1] = JSON.stringify(edited);
    const tampered = `${s.journalPath}.tampered`;
    await writeFile(tampered, `${lines.join('\n')}\n`);
    const t = await auditDataset(source, s.datasetId, { journalPath: tampered });
    const broken = t.anomalies.find((a) => a.kind === 'journal-broken');
    expect(broken?.message).toContain('entry 1 was altered');
    expect(broken?.entryIds).toEqual(['journal:1']);
    expect(t.entries.filter((e) => e.source === 'journal')).toHaveLength(4);
    // a removed line breaks the sequence
    const removed = parseJournalText(`${[lines[0], lines[2]].join('\n')}\n`);
    expect(removed.broken?.message).toContain('out of sequence');
  });

  it('refuses a dataset the registry never registered', async () => {
    const err = await auditDataset(source, `0x${'42'.repeat(24)}${'0'.repeat(16)}`).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CustosError);
    expect((err as CustosError).tag).toBe('DatasetNotRegistered');
  });
});

describe('decodeRegistryLog (topic table)', () => {
  it('decodes every registry log of a real history exactly as ethers’ parseLog does', async () => {
    const s = await buildScenario();
    try {
      const logs = await s.devnet.provider.getLogs({ address: s.devnet.registry, fromBlock: 0 });
      expect(logs.length).toBeGreaterThanOrEqual(10);
      const iface = new Interface(custosRegistryAbi);
      for (const log of logs) {
        const ours = decodeRegistryLog(log);
        const theirs = iface.parseLog({ topics: [...log.topics], data: log.data });
        expect(ours?.name).toBe(theirs?.name);
        expect(Object.values(ours?.args ?? {}).map(String)).toEqual(
          [...(theirs?.args ?? [])].map(String),
        );
      }
      const other = { ...logs[0]!, topics: [`0x${'12'.repeat(32)}`], index: 0 };
      expect(decodeRegistryLog(other as never)).toBeUndefined();
    } finally {
      await s.stop();
    }
  });
});

describe('audit timeline: every kind of dataset event, and a chain that is not the devnet', () => {
  let s: Scenario;
  let source: Parameters<typeof auditDataset>[0];
  beforeAll(async () => {
    s = await buildScenario({ chainId: 4242 });
    source = {
      provider: s.devnet.provider,
      chainId: s.devnet.chainId,
      registry: s.devnet.registry,
      startBlock: s.devnet.startBlock,
    };
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('simulated evidence on chain 4242 is flagged without being told it is not the devnet', async () => {
    const t = await auditDataset(source, s.datasetId, { journalPath: s.journalPath });
    expect(t.devnet).toBe(false);
    expect(t.anomalies.filter((a) => a.kind === 'simulated-outside-devnet')).toHaveLength(4);
  });

  it('freeze, unfreeze, revoke-all and an ownership transfer appear with who did them; a close after revoke-all is flagged', async () => {
    const { Wallet, hexlify, randomBytes } = await import('ethers');
    const newOwner = new Wallet(hexlify(randomBytes(32)));
    // a run of the second grant, closed after every grant is revoked
    await s.asOwner.freeze(s.datasetId);
    await s.asOwner.unfreeze(s.datasetId);
    await s.asOwner.revokeAll(s.datasetId);
    const result = `0x${'99'.repeat(32)}`;
    const sig = await s.asRelayer.signRunResult(s.enclave, s.runs.unreleased, result);
    await s.asRelayer.closeRun(s.runs.unreleased, result, sig);
    await s.asOwner.transferOwnership(s.datasetId, newOwner.address);
    const t = await auditDataset(source, s.datasetId, { journalPath: s.journalPath });
    const tail = t.entries.filter((e) => e.source === 'chain').slice(-5);
    expect(tail.map((e) => e.kind)).toEqual([
      'frozen',
      'unfrozen',
      'all-grants-revoked',
      'run-closed',
      'ownership-transferred',
    ]);
    const owner = s.owner.address.toLowerCase();
    expect(tail.map((e) => e.who)).toEqual([owner, owner, owner, null, owner]);
    expect(tail[4]!.what).toContain(newOwner.address.toLowerCase());
    const late = t.anomalies.filter((a) => a.kind === 'closed-after-revocation');
    expect(late.map((a) => a.runId)).toContain(s.runs.unreleased.toLowerCase());
    expect(late.find((a) => a.runId === s.runs.unreleased.toLowerCase())?.entryIds).toEqual([
      tail[3]!.id,
      tail[2]!.id,
    ]);
  });
});
