/**
 * Reading an import source: the preview (first megabytes) and the checking pass (the whole file:
 * SHA-256 and exact record count), both streamed in constant memory.
 */
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, extname, isAbsolute } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ImportPreview } from '../api/index.ts';
import { CustosError } from '../errors/index.ts';
import { CsvScanner, redactValue } from './csv.ts';

const CHUNK = 1024 * 1024;
/** The preview reads at most this much; the checking stage reads everything. */
export const PREVIEW_BYTES = 32 * 1024 * 1024;

function unreadable(path: string, error: unknown): CustosError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? null;
  if (code === 'ENOENT')
    return new CustosError('NotFound', `${path} does not exist`, {
      cause: error,
      details: { path },
    });
  return new CustosError('FileUnreadable', `cannot read ${path}: ${code ?? String(error)}`, {
    cause: error,
    details: { path, code },
  });
}

/** Opens an import source: an absolute path to a regular file. */
export async function openSource(path: string): Promise<{ handle: FileHandle; size: number }> {
  if (!isAbsolute(path))
    throw new CustosError(
      'UsageError',
      'give the full path of the file (starting with / or a drive)',
      {
        details: { path },
      },
    );
  const info = await stat(path).catch((error: unknown) => {
    throw unreadable(path, error);
  });
  if (!info.isFile())
    throw new CustosError('FileUnreadable', `${path} is not a regular file`, { details: { path } });
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw unreadable(path, error);
  });
  return { handle, size: info.size };
}

export const formatOf = (path: string): 'csv' | 'file' =>
  extname(path).toLowerCase() === '.csv' ? 'csv' : 'file';

/** Streams the file once, chunk by chunk, until `limit` bytes. */
async function readChunks(
  handle: FileHandle,
  limit: number,
  onChunk: (bytes: Uint8Array) => void,
  signal?: AbortSignal,
): Promise<number> {
  const buffer = new Uint8Array(CHUNK);
  let position = 0;
  while (position < limit) {
    if (signal?.aborted) throw new CustosError('Cancelled', 'cancelled');
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, limit - position), position);
    if (bytesRead === 0) break;
    onChunk(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return position;
}

/** Builds the import preview: columns, record count (exact when the file fits the preview), masked samples. */
export async function previewSource(path: string): Promise<ImportPreview> {
  const { handle, size } = await openSource(path);
  try {
    const format = formatOf(path);
    const base = { path, sourceName: basename(path), sizeBytes: size, format };
    if (format !== 'csv') {
      return { ...base, columns: [], recordCount: null, redactedSamples: [], truncated: false };
    }
    const scanner = new CsvScanner({ maxSamples: 3 });
    const decoder = new StringDecoder('utf8');
    await readChunks(handle, PREVIEW_BYTES, (bytes) => scanner.push(decoder.write(bytes))).catch(
      (error: unknown) => {
        throw unreadable(path, error);
      },
    );
    scanner.push(decoder.end());
    const scan = scanner.finish();
    return {
      ...base,
      columns: scan.columns.slice(0, 2000).map((c) => c.slice(0, 200)),
      recordCount: scan.recordCount,
      redactedSamples: scan.samples.map((row) => row.map((v) => redactValue(v))),
      truncated: size > PREVIEW_BYTES,
    };
  } finally {
    await handle.close();
  }
}

export interface CheckResult {
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly columns: string[];
  readonly recordCount: number | null;
}

/** Reads the whole file: SHA-256 and, for CSV, the exact record count. Throws `Cancelled` on abort. */
export async function checkSource(
  path: string,
  onProgress: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<CheckResult> {
  const { handle } = await openSource(path);
  try {
    const csv = formatOf(path) === 'csv' ? new CsvScanner({ maxSamples: 0 }) : null;
    const decoder = new StringDecoder('utf8');
    const hash = createHash('sha256');
    let done = 0;
    const total = await readChunks(
      handle,
      Number.MAX_SAFE_INTEGER,
      (bytes) => {
        hash.update(bytes);
        csv?.push(decoder.write(bytes));
        done += bytes.length;
        onProgress(done);
      },
      signal,
    ).catch((error: unknown) => {
      if (error instanceof CustosError) throw error;
      throw unreadable(path, error);
    });
    csv?.push(decoder.end());
    const scan = csv?.finish();
    return {
      sizeBytes: total,
      sha256: hash.digest('hex'),
      columns: scan?.columns.slice(0, 2000).map((c) => c.slice(0, 200)) ?? [],
      recordCount: scan ? scan.recordCount : null,
    };
  } finally {
    await handle.close();
  }
}
