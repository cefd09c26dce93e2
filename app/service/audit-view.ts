/** The audit timeline (app/audit) as the API's lines: what the Audit screen and its benchmark show. */
import type { AuditEntry } from '../api/index.ts';
import type { TimelineEntry } from '../audit/index.ts';

/**
 * One timeline entry of dataset `d` as an API line; grantee and app names come from the address
 * book (by grant id) and the enclave apps (by measurement).
 */
export function auditEntryOf(
  d: { readonly id: string; readonly name: string },
  e: TimelineEntry,
  granteeOf: ReadonlyMap<string, string>,
  appOf: ReadonlyMap<string, string>,
): AuditEntry {
  const grantId = e.grantId?.toLowerCase() ?? null;
  const measurement = e.measurement?.toLowerCase() ?? null;
  return {
    id: `${d.id}:${e.id}`,
    datasetId: d.id,
    datasetName: d.name,
    kind: e.kind,
    source: e.source,
    what: e.what.slice(0, 1000),
    time: e.blockTime ?? e.wallTime,
    who: e.who,
    grantId,
    granteeName: grantId ? (granteeOf.get(grantId) ?? null) : null,
    runId: e.runId,
    appName: measurement ? (appOf.get(measurement) ?? null) : null,
    measurement,
    teeType: e.teeType,
    simulated: e.simulated,
    resultHash: e.evidence.resultHash,
    txHash: e.evidence.txHash,
    blockNumber: e.blockNumber,
    evidence: {
      blockHash: e.evidence.blockHash,
      logIndex: e.evidence.logIndex,
      journalSeq: e.evidence.journalSeq,
      journalHash: e.evidence.journalHash,
      evidenceHash: e.evidence.evidenceHash,
    },
    anomalies: [...e.anomalies],
  };
}

/** Newest first; within a second, by block and log index, then journal order. */
export function newestFirst(a: AuditEntry, b: AuditEntry): number {
  return (
    (b.time ?? '').slice(0, 19).localeCompare((a.time ?? '').slice(0, 19)) ||
    (b.blockNumber ?? -1) - (a.blockNumber ?? -1) ||
    (b.evidence.logIndex ?? -1) - (a.evidence.logIndex ?? -1) ||
    (b.evidence.journalSeq ?? -1) - (a.evidence.journalSeq ?? -1)
  );
}
