/**
 * A hash-chained, append-only journal (JSON Lines). Each entry commits to the previous one:
 *   hash = SHA-256(canonical JSON of { seq, time, prev, record })
 * so removing, reordering or editing any entry breaks the chain from there on. Appends are fsynced
 * before they return: an entry that was acknowledged survives a crash. A torn last line (a crash
 * mid-append, never acknowledged) is cut off when the journal is opened.
 * Used by the key-release service (every release and refusal) and read by the audit.
 */
import { createHash } from 'node:crypto';
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { CustosError, fromFsError } from '../errors/index.ts';

export const GENESIS = '0'.repeat(64);

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface JournalEntry<R extends JsonValue = JsonValue> {
  readonly seq: number;
  /** ISO 8601 wall time of the append. */
  readonly time: string;
  /** Hash of the previous entry; GENESIS for the first. */
  readonly prev: string;
  readonly record: R;
  readonly hash: string;
}

const EntrySchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  time: z.string(),
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  record: z.json(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

/** JSON with object keys sorted at every level: the bytes that are hashed. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash an entry must carry. */
export function entryHash(entry: Omit<JournalEntry, 'hash'>): string {
  return createHash('sha256')
    .update(
      canonicalJson({ seq: entry.seq, time: entry.time, prev: entry.prev, record: entry.record }),
    )
    .digest('hex');
}

/**
 * Checks a sequence of entries: consecutive seq from `first.seq`, each `prev` the hash of the one
 * before (the first's `prev` must equal `expectedPrev` when given), each hash recomputed.
 * Throws `JournalBroken` naming the first bad entry.
 */
export function verifyChain(entries: readonly JournalEntry[], expectedPrev?: string): void {
  let prev = expectedPrev;
  let seq = entries[0]?.seq;
  for (const e of entries) {
    if (e.seq !== seq)
      throw new CustosError(
        'JournalBroken',
        `journal entry ${e.seq} is out of sequence (expected ${seq})`,
        { details: { seq: e.seq } },
      );
    if (prev !== undefined && e.prev !== prev)
      throw new CustosError(
        'JournalBroken',
        `journal entry ${e.seq} does not follow the entry before it`,
        { details: { seq: e.seq } },
      );
    if (entryHash(e) !== e.hash)
      throw new CustosError('JournalBroken', `journal entry ${e.seq} was altered (hash mismatch)`, {
        details: { seq: e.seq },
      });
    prev = e.hash;
    seq = e.seq + 1;
  }
}

/** Parses journal text; a torn final line (no newline) is reported separately, not as an error. */
function parseLines(text: string): { entries: JournalEntry[]; tornBytes: number } {
  const lastNewline = text.lastIndexOf('\n');
  const complete = text.slice(0, lastNewline + 1);
  const tornBytes = Buffer.byteLength(text.slice(lastNewline + 1));
  const entries = complete
    .split('\n')
    .filter((l) => l !== '')
    .map((line, i) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new CustosError('JournalBroken', `journal line ${i + 1} is not valid JSON`, {
          details: { line: i + 1 },
        });
      }
      const parsed = EntrySchema.safeParse(json);
      if (!parsed.success)
        throw new CustosError('JournalBroken', `journal line ${i + 1} is not a journal entry`, {
          details: { line: i + 1 },
        });
      return parsed.data;
    });
  return { entries, tornBytes };
}

/** Reads and verifies a whole journal file (a missing file is an empty journal). */
export async function readJournal(path: string): Promise<JournalEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromFsError(error, path);
  }
  const { entries } = parseLines(text);
  verifyChain(entries, GENESIS);
  return entries;
}

/** An open journal for appending. Appends are serialised and fsynced. */
export class Journal<R extends JsonValue = JsonValue> {
  readonly path: string;
  readonly #handle: FileHandle;
  #head: string;
  #seq: number;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, handle: FileHandle, head: string, seq: number) {
    this.path = path;
    this.#handle = handle;
    this.#head = head;
    this.#seq = seq;
  }

  /**
   * Opens (or creates) the journal at `path`, verifies the whole chain, and cuts off a torn last
   * line. Throws `JournalBroken` if the existing chain does not verify.
   */
  static async open<R extends JsonValue = JsonValue>(path: string): Promise<Journal<R>> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(error, path);
    }
    const { entries, tornBytes } = parseLines(text);
    verifyChain(entries, GENESIS);
    if (tornBytes > 0) await truncate(path, Buffer.byteLength(text) - tornBytes);
    const handle = await open(path, 'a', 0o600).catch((e: unknown) =>
      Promise.reject(fromFsError(e, path)),
    );
    const last = entries.at(-1);
    return new Journal<R>(path, handle, last?.hash ?? GENESIS, last ? last.seq + 1 : 0);
  }

  /** The hash of the last entry (GENESIS when empty). */
  get head(): string {
    return this.#head;
  }

  /** Appends a record; resolves with the entry once it is on disk. */
  append(record: R): Promise<JournalEntry<R>> {
    const next = this.#queue.then(async () => {
      const body = { seq: this.#seq, time: new Date().toISOString(), prev: this.#head, record };
      const entry: JournalEntry<R> = { ...body, hash: entryHash(body) };
      try {
        await this.#handle.write(`${JSON.stringify(entry)}\n`);
        await this.#handle.sync();
      } catch (error) {
        throw fromFsError(error, this.path);
      }
      this.#head = entry.hash;
      this.#seq += 1;
      return entry;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#handle.close();
  }
}

export { KeyReleaseRecordSchema, type KeyReleaseRecord } from './key-release-record.ts';
