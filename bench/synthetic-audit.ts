/**
 * A large synthetic audit for the UI benchmarks: registry events shaped exactly as the indexer
 * yields them (`RegistryEvent`, the generated event types), built into timelines by app/audit's
 * `buildTimeline` and turned into the API's `AuditEntry` lines the way the service does.
 *
 * Why not bench/audit.bench.ts's history: that one is real (transactions signed and mined by
 * anvil) and takes minutes for 10,000 runs; the UI benchmarks need 100,000 runs in seconds, and
 * what they measure starts where the timeline exists.
 */
import { keccak256, toUtf8Bytes } from 'ethers';
import type { AuditAnomaly, AuditEntry } from '../app/api/index.ts';
import { buildTimeline, type DatasetEvent } from '../app/audit/index.ts';
import { auditEntryOf, newestFirst } from '../app/service/audit-view.ts';
import { DEVNET_CHAIN_ID, runIdOf, type RegistryEvent } from '../app/chain/index.ts';

export interface SyntheticAudit {
  readonly entries: AuditEntry[];
  readonly anomalies: AuditAnomaly[];
  readonly runs: number;
  /** Milliseconds the service's part took: timelines built (app/audit), lines made, sorted. */
  readonly buildMs: number;
  readonly datasets: readonly { readonly id: string; readonly name: string }[];
  readonly grantees: readonly string[];
}

const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const hex = (n: number, bytes: number): string => `0x${n.toString(16).padStart(bytes * 2, '0')}`;
const h = (s: string): string => keccak256(toUtf8Bytes(s));

const DATASETS = ['Cardiology cohort 2024', 'Oncology cohort 2025'];
/** Two per dataset, in dataset order. */
const GRANTEES = [
  'Cardiology Research Lab',
  'Public Health Institute',
  'Oncology Lab, Univ. of Lyon',
  'Rare Diseases Network',
];
const APP = { title: 'Cohort statistics', measurement: h('cohort-statistics v1.2') };

/**
 * `runs` enclave runs over `days` days up to now, spread round-robin over two datasets with two
 * grants each (four grantees); every run closes but one in a thousand.
 */
export function syntheticAudit(runs = 100_000, days = 90): SyntheticAudit {
  const now = Math.floor(Date.now() / 1000);
  const first = now - days * 86_400;
  const step = (days * 86_400) / runs;
  const owner = hex(0xa11ce, 20);
  const operator = hex(0x0fe1a, 20);
  let block = 10;
  const perDataset = DATASETS.map((name, d) => {
    const datasetId = h(`dataset ${d}`);
    const events: DatasetEvent[] = [];
    const at = (blockTime: number, event: Omit<RegistryEvent, 'blockHash' | 'transactionHash'>) =>
      events.push({
        blockTime,
        event: {
          ...event,
          blockHash: hex(event.blockNumber, 32),
          transactionHash: hex(event.blockNumber * 16 + event.logIndex, 32),
        } as RegistryEvent,
      });
    const base = { blockNumber: block, logIndex: 0 };
    at(first - 3600, {
      ...base,
      name: 'DatasetRegistered',
      args: {
        datasetId,
        owner,
        containerId: hex(d + 1, 16),
        cid: `0x01551220${'ab'.repeat(32)}`,
        ciphertextHash: h('c'),
        metadataHash: h('m'),
      },
    });
    at(first - 3600, {
      ...base,
      logIndex: 1,
      name: 'OperatorSet',
      args: { datasetId, previousOperator: hex(0, 20), operator },
    });
    const grants = [0, 1].map((g) => {
      const grantId = h(`grant ${d} ${g}`);
      at(first - 1800, {
        blockNumber: block,
        logIndex: 2 + g,
        name: 'GrantCreated',
        args: {
          grantId,
          datasetId,
          grantee: hex(0xbeef + d * 2 + g, 20),
          epoch: 0n,
          notBefore: BigInt(first - 1800),
          notAfter: BigInt(now + 365 * 86_400),
          maxRuns: BigInt(runs),
          measurements: [APP.measurement],
          purposeHash: h('purpose'),
          legalBasisHash: h('legal basis'),
        },
      });
      return { grantId, grantee: GRANTEES[d * 2 + g] ?? '', runs: 0 };
    });
    // The vault's own id for the dataset (the API's), beside the registry's.
    const localId = (d + 1).toString(16).padStart(32, '0');
    return { datasetId, localId, name, events, grants };
  });
  block += 1;

  for (let i = 0; i < runs; i += 1) {
    const dataset = perDataset[i % perDataset.length]!;
    const grant = dataset.grants[Math.floor(i / perDataset.length) % dataset.grants.length]!;
    const time = Math.floor(first + i * step);
    const runId = runIdOf(grant.grantId, grant.runs);
    const events = dataset.events;
    const mk = (
      blockNumber: number,
      event: Omit<RegistryEvent, 'blockHash' | 'transactionHash' | 'blockNumber' | 'logIndex'>,
      blockTime: number,
    ) =>
      events.push({
        blockTime,
        event: {
          ...event,
          blockNumber,
          logIndex: 0,
          blockHash: hex(blockNumber, 32),
          transactionHash: hex(blockNumber * 16, 32),
        } as RegistryEvent,
      });
    mk(
      block,
      {
        name: 'RunOpened',
        args: {
          runId,
          grantId: grant.grantId,
          datasetId: dataset.datasetId,
          runIndex: BigInt(grant.runs),
          measurement: APP.measurement,
          evidenceHash: hex(i + 1, 32),
          enclaveKey: hex(i + 1, 20),
          operator,
        },
      },
      time,
    );
    // One run in a thousand never closes: the audit flags it (the anomalies filter has work).
    if (i % 1000 !== 999)
      mk(
        block + 1,
        {
          name: 'RunClosed',
          args: { runId, resultHash: hex(i + 7, 32), enclaveSignature: '0x' },
        },
        Math.min(now, time + 30),
      );
    grant.runs += 1;
    block += 2;
  }

  const started = performance.now();
  const entries: AuditEntry[] = [];
  const anomalies: AuditAnomaly[] = [];
  for (const d of perDataset) {
    const timeline = buildTimeline(
      { datasetId: d.datasetId, events: d.events, finalBlock: block, finalTime: now },
      { chainId: DEVNET_CHAIN_ID, registry: REGISTRY },
    );
    const granteeOf = new Map(d.grants.map((g) => [g.grantId.toLowerCase(), g.grantee]));
    const appOf = new Map([[APP.measurement.toLowerCase(), APP.title]]);
    for (const e of timeline.entries)
      entries.push(auditEntryOf({ id: d.localId, name: d.name }, e, granteeOf, appOf));
    for (const a of timeline.anomalies)
      anomalies.push({
        kind: a.kind,
        message: a.message.slice(0, 1000),
        datasetName: d.name,
        entryIds: a.entryIds.map((id) => `${d.localId}:${id}`),
      });
  }
  entries.sort(newestFirst);
  return {
    entries,
    anomalies,
    runs,
    buildMs: performance.now() - started,
    datasets: perDataset.map((d) => ({ id: d.localId, name: d.name })),
    grantees: GRANTEES,
  };
}
