import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { splitGrantId } from '../chain/index.ts';
import { CustosError, fromFsError } from '../errors/index.ts';
import {
  GENESIS,
  KeyReleaseRecordSchema,
  verifyChain,
  type JournalEntry,
  type KeyReleaseRecord,
} from '../journal/index.ts';

/** Where the hash chain of a journal first fails, and why. */
export interface JournalBreak {
  readonly seq: number | null;
  readonly line: number | null;
  readonly message: string;
}

/** A journal read for audit: every entry that parses, and the first break, if any. */
export interface AuditedJournal {
  readonly entries: readonly JournalEntry[];
  readonly broken: JournalBreak | null;
}

const EntrySchema = z.object({
  seq: z.number().int().nonnegative(),
  time: z.string(),
  prev: z.string(),
  record: z.json(),
  hash: z.string(),
});

/**
 * Reads a key-release journal for audit. Unlike `readJournal`, a broken chain does not stop the
 * reading: the audit must show what is there and flag where the chain breaks.
 * A missing file is an empty journal. @throws FileSystemError, PermissionDenied
 */
export async function readJournalForAudit(path: string): Promise<AuditedJournal> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], broken: null };
    throw fromFsError(error, path);
  }
  return parseJournalText(text);
}

/** The same from text (complete lines only; a torn last line was never acknowledged). */
export function parseJournalText(text: string): AuditedJournal {
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n');
  const entries: JournalEntry[] = [];
  let broken: JournalBreak | null = null;
  lines.forEach((line, i) => {
    if (line === '') return;
    let parsed: JournalEntry | undefined;
    try {
      const r = EntrySchema.safeParse(JSON.parse(line));
      if (r.success) parsed = r.data;
    } catch {
      // reported below
    }
    if (parsed) entries.push(parsed);
    else broken ??= { seq: null, line: i + 1, message: `journal line ${i + 1} is not an entry` };
  });
  try {
    verifyChain(entries, GENESIS);
  } catch (error) {
    if (!(error instanceof CustosError)) throw error;
    const seq = error.details['seq'];
    broken ??= {
      seq: typeof seq === 'number' ? seq : null,
      line: null,
      message: error.message,
    };
  }
  return { entries, broken };
}

/** A key-release decision from the journal with where it sits in it. */
export interface KeyReleaseEntry {
  readonly seq: number;
  readonly time: string;
  readonly hash: string;
  readonly record: KeyReleaseRecord;
}

/** The dataset a key-release record is about: its datasetId, or the grant's dataset. */
export function recordDataset(record: KeyReleaseRecord): string | null {
  if (record.datasetId) return record.datasetId.toLowerCase();
  if (record.grantId) return splitGrantId(record.grantId).datasetId.toLowerCase();
  return null;
}

/** The key-release records of one dataset on one chain and registry, in journal order. */
export function keyReleasesOf(
  entries: readonly JournalEntry[],
  scope: { datasetId: string; chainId: number; registry: string },
): KeyReleaseEntry[] {
  const out: KeyReleaseEntry[] = [];
  for (const e of entries) {
    const parsed = KeyReleaseRecordSchema.safeParse(e.record);
    if (!parsed.success) continue;
    const r = parsed.data;
    if (
      r.chainId === scope.chainId &&
      r.registry.toLowerCase() === scope.registry.toLowerCase() &&
      recordDataset(r) === scope.datasetId.toLowerCase()
    )
      out.push({ seq: e.seq, time: e.time, hash: e.hash, record: r });
  }
  return out;
}
