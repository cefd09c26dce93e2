/**
 * Bytes in, text out, in constant memory: UTF-8 decoding of a chunk stream, a line splitter for
 * NDJSON, and format detection by the first significant character.
 */
import { createReadStream } from 'node:fs';
import { CustosError, fromFsError } from '../../../app/errors/index.ts';

/** What the app reads: a byte (or already decoded text) stream, or a plaintext file path. */
export type CohortInput = AsyncIterable<Uint8Array | string> | string;

/** Text chunks of the input. Invalid UTF-8 is a `MalformedRecord`; a leading BOM is dropped. */
export async function* textChunks(input: CohortInput): AsyncGenerator<string> {
  const path = typeof input === 'string' ? input : null;
  const source: AsyncIterable<Uint8Array | string> =
    path === null ? (input as AsyncIterable<Uint8Array | string>) : createReadStream(path);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch (error) {
      throw new CustosError('MalformedRecord', `${path ?? 'the input'} is not valid UTF-8 text`, {
        cause: error,
        details: path === null ? {} : { path },
      });
    }
  };
  try {
    for await (const chunk of source) {
      const text = typeof chunk === 'string' ? chunk : decode(chunk);
      if (text.length > 0) yield text;
    }
  } catch (error) {
    // Only the file stream's own errors are translated; anything else passes through as is.
    if (path !== null && !(error instanceof CustosError)) throw fromFsError(error, path);
    throw error;
  }
  const rest = decode();
  if (rest.length > 0) yield rest;
}

/**
 * Splits text chunks into lines (without their `\n` / `\r\n`), numbered from 1. A line longer than
 * `maxLineLength` characters is a `MalformedRecord`, so one huge line cannot exhaust memory.
 */
export async function* numberedLines(
  chunks: AsyncIterable<string>,
  maxLineLength: number,
): AsyncGenerator<{ line: string; number: number }> {
  let carry = '';
  let number = 0;
  for await (const chunk of chunks) {
    // A chunk without a line end only extends the current line (no rescan of what came before).
    if (!chunk.includes('\n')) {
      carry += chunk;
      if (carry.length > maxLineLength) throw tooLong(number + 1, maxLineLength);
      continue;
    }
    let start = 0;
    const text = carry + chunk;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      number += 1;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end - start > maxLineLength) throw tooLong(number, maxLineLength);
      yield { line: text.slice(start, end), number };
      start = nl + 1;
    }
    carry = text.slice(start);
    if (carry.length > maxLineLength) throw tooLong(number + 1, maxLineLength);
  }
  if (carry.length > 0) {
    number += 1;
    yield { line: carry.endsWith('\r') ? carry.slice(0, -1) : carry, number };
  }
}

function tooLong(line: number, max: number): CustosError {
  return new CustosError(
    'MalformedRecord',
    `line ${String(line)} is longer than ${String(max)} characters`,
    {
      details: { line },
    },
  );
}

/**
 * Looks at the first non-blank character without losing any input: `{` means FHIR NDJSON, anything
 * else CSV. Returns the detected format and the full chunk stream.
 */
export async function sniff(
  chunks: AsyncIterable<string>,
): Promise<{ format: 'fhir-ndjson' | 'csv'; chunks: AsyncIterable<string> }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const seen: string[] = [];
  let format: 'fhir-ndjson' | 'csv' = 'csv';
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) break;
    seen.push(next.value);
    const significant = next.value.trimStart();
    if (significant.length > 0) {
      format = significant.startsWith('{') ? 'fhir-ndjson' : 'csv';
      break;
    }
  }
  async function* replay(): AsyncGenerator<string> {
    yield* seen;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  return { format, chunks: replay() };
}
