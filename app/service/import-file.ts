/**
 * Reading an import source — one file, or a folder whose files make one dataset — for the preview
 * (first megabytes) and the checking pass (everything: SHA-256, exact record count), both streamed
 * in constant memory whatever the number of files.
 *
 * A folder is one of two things a hospital exports (docs/ui.md, "Import"):
 * - a FHIR bulk export: `*.ndjson` files, one resource per line → their lines, file after file;
 * - CSV files with the same header → the header once, then every file's rows.
 * Files are taken in name order; hidden files and subfolders are left out and counted.
 */
import { createHash } from 'node:crypto';
import { open, opendir, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ImportPreview } from '../api/index.ts';
import { CustosError } from '../errors/index.ts';
import { CsvScanner, redactValue } from './csv.ts';

const CHUNK = 1024 * 1024;
/** The preview reads at most this much; the checking stage reads everything. */
export const PREVIEW_BYTES = 32 * 1024 * 1024;
/** More files than this in one folder is not an export Custos takes in one dataset. */
export const MAX_FOLDER_FILES = 100_000;
const NEWLINE = 0x0a;

export type SourceFormat = 'csv' | 'fhir-ndjson' | 'file';

/** What an import will read: the files in order, their format, what was left out. */
export interface SourcePlan {
  readonly path: string;
  readonly folder: boolean;
  readonly format: SourceFormat;
  readonly files: readonly { readonly path: string; readonly size: number }[];
  /** Sum of the files' sizes (the bytes read; a folder's CSV headers after the first are dropped). */
  readonly sizeBytes: number;
  /** Hidden files and subfolders of a folder, not imported. */
  readonly ignored: number;
}

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

const formatOfName = (path: string): SourceFormat => {
  const ext = extname(path).toLowerCase();
  return ext === '.csv' ? 'csv' : ext === '.ndjson' ? 'fhir-ndjson' : 'file';
};

/** Finds what `path` is and what will be read. @throws UsageError, NotFound, FileUnreadable */
export async function planSource(path: string): Promise<SourcePlan> {
  if (!isAbsolute(path))
    throw new CustosError(
      'UsageError',
      'give the full path of the file or folder (starting with / or a drive)',
      { details: { path } },
    );
  const info = await stat(path).catch((error: unknown) => {
    throw unreadable(path, error);
  });
  if (info.isFile()) {
    return {
      path,
      folder: false,
      format: formatOfName(path),
      files: [{ path, size: info.size }],
      sizeBytes: info.size,
      ignored: 0,
    };
  }
  if (!info.isDirectory())
    throw new CustosError('FileUnreadable', `${path} is not a file or a folder`, {
      details: { path },
    });

  const files: { path: string; size: number }[] = [];
  let ignored = 0;
  try {
    for await (const entry of await opendir(path)) {
      if (entry.name.startsWith('.') || !entry.isFile()) {
        ignored += 1;
        continue;
      }
      if (files.length === MAX_FOLDER_FILES)
        throw new CustosError(
          'UsageError',
          `${path} holds more than ${MAX_FOLDER_FILES.toLocaleString('en')} files: import it in parts`,
          { details: { path } },
        );
      files.push({ path: join(path, entry.name), size: 0 });
    }
  } catch (error) {
    if (error instanceof CustosError) throw error;
    throw unreadable(path, error);
  }
  if (files.length === 0)
    throw new CustosError('UsageError', `${path} holds no files to import`, { details: { path } });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const formats = new Set(files.map((f) => formatOfName(f.path)));
  const format = formats.size === 1 ? [...formats][0] : undefined;
  if (format !== 'csv' && format !== 'fhir-ndjson') {
    const odd =
      files.find((f) => formatOfName(f.path) !== formatOfName(files[0]!.path)) ?? files[0]!;
    throw new CustosError(
      'UsageError',
      `a folder import takes FHIR NDJSON files (.ndjson) or CSV files (.csv), all of one kind; ${basename(odd.path)} is not`,
      { details: { path, file: basename(odd.path) } },
    );
  }
  let sizeBytes = 0;
  for (const f of files) {
    f.size = (
      await stat(f.path).catch((error: unknown) => {
        throw unreadable(f.path, error);
      })
    ).size;
    sizeBytes += f.size;
  }
  return { path, folder: true, format, files, sizeBytes, ignored };
}

/**
 * The source's bytes as one stream, in chunks: file after file; in a CSV folder the header once
 * (every later file must start with the same header line); each file ends with a newline.
 * Stops after `limit` bytes. Throws `Cancelled` on abort.
 */
export async function* sourceChunks(
  plan: SourcePlan,
  options: { limit?: number; signal?: AbortSignal } = {},
): AsyncGenerator<Uint8Array> {
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
  const joinFiles = plan.folder;
  let header: string | null = null;
  let produced = 0;
  for (const [index, file] of plan.files.entries()) {
    const handle = await open(file.path, 'r').catch((error: unknown) => {
      throw unreadable(file.path, error);
    });
    try {
      const buffer = Buffer.alloc(CHUNK);
      let position = 0;
      let pendingHeader: Buffer | null =
        joinFiles && plan.format === 'csv' ? Buffer.alloc(0) : null;
      let last = NEWLINE;
      for (;;) {
        if (options.signal?.aborted) throw new CustosError('Cancelled', 'cancelled');
        if (produced >= limit) return;
        const { bytesRead } = await handle
          .read(buffer, 0, CHUNK, position)
          .catch((error: unknown) => {
            throw unreadable(file.path, error);
          });
        if (bytesRead === 0) break;
        position += bytesRead;
        let bytes = buffer.subarray(0, bytesRead);
        if (pendingHeader) {
          // A folder of CSVs: the first line of each file is its header.
          const newline = bytes.indexOf(NEWLINE);
          pendingHeader = Buffer.concat([
            pendingHeader,
            newline < 0 ? bytes : bytes.subarray(0, newline + 1),
          ]);
          if (newline < 0) {
            if (pendingHeader.length > CHUNK)
              throw new CustosError(
                'UsageError',
                `${basename(file.path)}: the header line is longer than 1 MiB`,
              );
            continue;
          }
          bytes = bytes.subarray(newline + 1);
          const line = pendingHeader.toString('utf8').replace(/\r?\n$/, '');
          pendingHeader = null;
          if (index === 0) {
            header = line;
            const out = Buffer.from(`${line}\n`, 'utf8');
            produced += out.length;
            yield out;
          } else if (line !== header) {
            throw new CustosError(
              'UsageError',
              `${basename(file.path)} has other columns than ${basename(plan.files[0]!.path)}: every CSV of a folder needs the same header line`,
              { details: { file: basename(file.path) } },
            );
          }
        }
        if (bytes.length === 0) continue;
        const room = limit - produced;
        const out = bytes.length > room ? bytes.subarray(0, room) : bytes;
        last = out[out.length - 1] ?? last;
        produced += out.length;
        yield out;
      }
      if (joinFiles && last !== NEWLINE && produced < limit) {
        produced += 1;
        yield Uint8Array.of(NEWLINE);
      }
    } finally {
      await handle.close();
    }
  }
}

/** Counts FHIR NDJSON records (non-empty lines) and their resource types, chunk by chunk. */
export class NdjsonScanner {
  readonly #types = new Map<string, number>();
  #records = 0;
  #partial: Buffer = Buffer.alloc(0);
  #invalid = 0;

  push(chunk: Uint8Array): void {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#partial.length > 0) data = Buffer.concat([this.#partial, data]);
    let start = 0;
    for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
      this.#line(data.subarray(start, nl));
      start = nl + 1;
    }
    this.#partial = Buffer.from(data.subarray(start));
  }

  #line(line: Buffer): void {
    // resourceType is usually the first key: look there first, then in the whole line.
    const head = line.subarray(0, 256).toString('utf8');
    if (head.trim() === '') return;
    this.#records += 1;
    const match =
      /"resourceType"\s*:\s*"([A-Za-z]{1,64})"/.exec(head) ??
      /"resourceType"\s*:\s*"([A-Za-z]{1,64})"/.exec(line.toString('utf8'));
    if (!match?.[1]) {
      this.#invalid += 1;
      return;
    }
    this.#types.set(match[1], (this.#types.get(match[1]) ?? 0) + 1);
  }

  finish(): {
    recordCount: number;
    resourceTypes: { name: string; count: number }[];
    invalid: number;
  } {
    if (this.#partial.length > 0) this.#line(this.#partial);
    this.#partial = Buffer.alloc(0);
    const resourceTypes = [...this.#types]
      .map(([name, count]) => ({ name, count }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    return { recordCount: this.#records, resourceTypes, invalid: this.#invalid };
  }
}

/** Builds the import preview: structure, record count (exact when it fits the preview), masked samples. */
export async function previewSource(path: string): Promise<ImportPreview> {
  const plan = await planSource(path);
  const base = {
    path,
    sourceName: basename(path),
    sizeBytes: plan.sizeBytes,
    format: plan.format,
    folder: plan.folder ? { files: plan.files.length, ignored: plan.ignored } : null,
    truncated: plan.sizeBytes > PREVIEW_BYTES,
  };
  if (plan.format === 'file') {
    return {
      ...base,
      columns: [],
      recordCount: null,
      redactedSamples: [],
      resourceTypes: [],
      truncated: false,
    };
  }
  const csv = plan.format === 'csv' ? new CsvScanner({ maxSamples: 3 }) : null;
  const ndjson = plan.format === 'fhir-ndjson' ? new NdjsonScanner() : null;
  const decoder = new StringDecoder('utf8');
  for await (const chunk of sourceChunks(plan, { limit: PREVIEW_BYTES })) {
    csv?.push(decoder.write(chunk));
    ndjson?.push(chunk);
  }
  if (csv) {
    csv.push(decoder.end());
    const scan = csv.finish();
    return {
      ...base,
      columns: scan.columns.slice(0, 2000).map((c) => c.slice(0, 200)),
      recordCount: scan.recordCount,
      redactedSamples: scan.samples.map((row) => row.map((v) => redactValue(v))),
      resourceTypes: [],
    };
  }
  const scan = ndjson!.finish();
  return {
    ...base,
    columns: [],
    recordCount: scan.recordCount,
    redactedSamples: [],
    resourceTypes: scan.resourceTypes.slice(0, 200),
  };
}

/** The source's bytes differ between the checking pass and the encrypting pass. */
export const changedDuringImport = (path: string): CustosError =>
  new CustosError(
    'FileUnreadable',
    `${path} changed while it was being imported: import it again once it is complete`,
    { details: { path } },
  );

export interface CheckResult {
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly format: SourceFormat;
  readonly columns: string[];
  readonly recordCount: number | null;
  readonly resourceTypes: { name: string; count: number }[];
}

/**
 * Reads the whole source: SHA-256 of the bytes a dataset holds and, for CSV and FHIR NDJSON, the
 * exact record count. Throws `Cancelled` on abort.
 */
export async function checkSource(
  plan: SourcePlan,
  onProgress: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<CheckResult> {
  const csv = plan.format === 'csv' ? new CsvScanner({ maxSamples: 0 }) : null;
  const ndjson = plan.format === 'fhir-ndjson' ? new NdjsonScanner() : null;
  const decoder = new StringDecoder('utf8');
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of sourceChunks(plan, signal ? { signal } : {})) {
    hash.update(chunk);
    csv?.push(decoder.write(chunk));
    ndjson?.push(chunk);
    done += chunk.length;
    onProgress(done);
  }
  csv?.push(decoder.end());
  const scan = csv?.finish();
  const records = ndjson?.finish();
  return {
    sizeBytes: done,
    sha256: hash.digest('hex'),
    format: plan.format,
    columns: scan?.columns.slice(0, 2000).map((c) => c.slice(0, 200)) ?? [],
    recordCount: scan ? scan.recordCount : (records?.recordCount ?? null),
    resourceTypes: records?.resourceTypes.slice(0, 200) ?? [],
  };
}
