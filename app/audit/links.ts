/**
 * Linked runs: one enclave run that used several datasets (e.g. a model and the patient records
 * it runs on) opens one registry run per dataset, each with the same enclave key, and closes them
 * with the same result hash. Each dataset's audit trail and proof bundle names the runs of the
 * other datasets that belong to the same enclave run.
 */
import type { RegistryEvent } from '../chain/index.ts';

/** Why two runs are linked: the same enclave key in RunOpened, the same result hash in RunClosed. */
export type LinkBy = 'enclave-key' | 'result-hash';

/** A run of another dataset that belongs to the same enclave run as one of the dataset's runs. */
export interface LinkedRun {
  readonly runId: string;
  readonly datasetId: string;
  readonly grantId: string;
  readonly enclaveKey: string;
  /** Null while the linked run is open. */
  readonly resultHash: string | null;
  readonly by: readonly LinkBy[];
}

interface RunFacts {
  runId: string;
  datasetId: string;
  grantId: string;
  enclaveKey: string;
  resultHash: string | null;
}

const low = (v: unknown): string => String(v).toLowerCase();

/**
 * For each run of `datasetId` among `events`, the runs of other datasets among them linked to it:
 * opened with the same enclave key — unless both are closed with different result hashes (then
 * the enclave key served two enclave runs) — and/or closed with the same result hash. `events` may
 * be in any order. Runs without a RunOpened in `events` are ignored.
 * @returns own run id → linked runs (run ids, addresses and hashes lowercase; only runs with links)
 */
export function linkRuns(
  events: Iterable<RegistryEvent>,
  datasetId: string,
): Map<string, LinkedRun[]> {
  const runs = new Map<string, RunFacts>();
  const closes: RegistryEvent[] = [];
  for (const e of events) {
    const a = e.args as Record<string, unknown>;
    if (e.name === 'RunOpened')
      runs.set(low(a['runId']), {
        runId: low(a['runId']),
        datasetId: low(a['datasetId']),
        grantId: low(a['grantId']),
        enclaveKey: low(a['enclaveKey']),
        resultHash: null,
      });
    else if (e.name === 'RunClosed') closes.push(e);
  }
  for (const e of closes) {
    const a = e.args as Record<string, unknown>;
    const run = runs.get(low(a['runId']));
    if (run) run.resultHash = low(a['resultHash']);
  }
  const ds = datasetId.toLowerCase();
  const byKey = new Map<string, RunFacts[]>();
  const byResult = new Map<string, RunFacts[]>();
  const push = (m: Map<string, RunFacts[]>, k: string, r: RunFacts): void => {
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  };
  for (const r of runs.values()) {
    if (r.datasetId === ds) continue;
    push(byKey, r.enclaveKey, r);
    if (r.resultHash) push(byResult, r.resultHash, r);
  }
  const out = new Map<string, LinkedRun[]>();
  for (const own of runs.values()) {
    if (own.datasetId !== ds) continue;
    const candidates = new Set([
      ...(byKey.get(own.enclaveKey) ?? []),
      ...(own.resultHash ? (byResult.get(own.resultHash) ?? []) : []),
    ]);
    const linked: LinkedRun[] = [];
    for (const c of candidates) {
      const by: LinkBy[] = [];
      const bothClosedApart =
        own.resultHash !== null && c.resultHash !== null && own.resultHash !== c.resultHash;
      if (c.enclaveKey === own.enclaveKey && !bothClosedApart) by.push('enclave-key');
      if (own.resultHash !== null && c.resultHash === own.resultHash) by.push('result-hash');
      if (by.length > 0) linked.push({ ...c, by });
    }
    if (linked.length > 0) out.set(own.runId, linked);
  }
  return out;
}

/** The sentence a timeline entry or report gives a link. */
export function linkSentence(l: LinkedRun): string {
  const how =
    l.by.length === 2
      ? 'same enclave key and result'
      : l.by[0] === 'enclave-key'
        ? 'same enclave key'
        : 'same result';
  return `run ${l.runId.slice(0, 10)}… with dataset ${l.datasetId.slice(0, 10)}… (grant ${l.grantId.slice(0, 10)}…) in the same enclave run (${how})`;
}
