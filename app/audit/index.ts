/**
 * The audit trail: one timeline per dataset from the registry's events and the key-release
 * journal, with anomalies flagged on the entries they concern.
 */
import { readJournalForAudit } from './journal.ts';
import { readDatasetHistory, type ChainSource } from './history.ts';
import { buildTimeline, type AuditTimeline, type TimelineOptions } from './timeline.ts';

export {
  blockTimes,
  concernsDataset,
  readDatasetHistory,
  type ChainSource,
  type DatasetEvent,
  type DatasetHistory,
} from './history.ts';
export { linkRuns, linkSentence, type LinkBy, type LinkedRun } from './links.ts';
export {
  keyReleasesOf,
  parseJournalText,
  readJournalForAudit,
  recordDataset,
  type AuditedJournal,
  type JournalBreak,
  type KeyReleaseEntry,
} from './journal.ts';
export {
  buildTimeline,
  type Anomaly,
  type AnomalyKind,
  type AuditTimeline,
  type EntryEvidence,
  type TeeType,
  type TimelineEntry,
  type TimelineKind,
  type TimelineOptions,
} from './timeline.ts';

/**
 * Reads a dataset's history from the chain (and the journal at `journalPath`, if given) and
 * builds its timeline.
 * @throws RpcUnavailable, WrongChain, DatasetNotRegistered, FileSystemError
 */
export async function auditDataset(
  source: ChainSource,
  datasetId: string,
  options: { journalPath?: string } & Omit<
    TimelineOptions,
    'chainId' | 'registry' | 'journal'
  > = {},
): Promise<AuditTimeline> {
  const history = await readDatasetHistory(source, datasetId);
  const journal =
    options.journalPath === undefined ? undefined : await readJournalForAudit(options.journalPath);
  return buildTimeline(history, {
    chainId: source.chainId,
    registry: source.registry,
    ...(journal ? { journal } : {}),
    ...(options.devnet === undefined ? {} : { devnet: options.devnet }),
    ...(options.expectedRunSeconds === undefined
      ? {}
      : { expectedRunSeconds: options.expectedRunSeconds }),
  });
}
