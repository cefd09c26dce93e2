import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../../app/errors/index.ts';
import { csvRecords } from './csv.ts';
import { numberedLines, sniff, textChunks } from './text.ts';

function stream<T>(items: Iterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = items[Symbol.iterator]();
      return { next: () => Promise.resolve(iterator.next()) };
    },
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

/** Splits `bytes` at the given (sorted, deduplicated) cut points. */
function cut(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const p of at) {
    parts.push(bytes.subarray(start, p));
    start = p;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

describe('text input', () => {
  it('lines survive any chunking of the bytes, multi-byte characters and CRLF included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\r\n\uFEFF]/.test(s)),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (lines, crlf, points) => {
          const text = lines.map((l) => `${l}${crlf ? '\r\n' : '\n'}`).join('');
          const chunks = cut(new TextEncoder().encode(text), points);
          const got = await collect(numberedLines(textChunks(stream(chunks)), 1000));
          expect(got.map((l) => l.line)).toEqual(lines);
          expect(got.map((l) => l.number)).toEqual(lines.map((_, i) => i + 1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a last line without a newline is still read', async () => {
    const got = await collect(numberedLines(stream(['a\nb', 'c']), 10));
    expect(got).toEqual([
      { line: 'a', number: 1 },
      { line: 'bc', number: 2 },
    ]);
  });

  it('an over-long line is refused before it is held whole', async () => {
    const error: unknown = await collect(
      numberedLines(stream(['ok\n', 'x'.repeat(6), 'x'.repeat(6)]), 10),
    ).catch((e: unknown) => e);
    expect(isCustosError(error, 'MalformedRecord')).toBe(true);
    expect((error as { details: { line: number } }).details.line).toBe(2);
    const csv: unknown = await collect(
      csvRecords(stream(['a,b\n', '"', 'y'.repeat(20)]), 10),
    ).catch((e: unknown) => e);
    expect(isCustosError(csv, 'MalformedRecord')).toBe(true);
  });

  it('format detection looks past blank space and loses nothing', async () => {
    const a = await sniff(stream(['', '  \n', ' {"resourceType":"Patient"}\n']));
    expect(a.format).toBe('fhir-ndjson');
    expect((await collect(a.chunks)).join('')).toBe('  \n {"resourceType":"Patient"}\n');
    const b = await sniff(stream(['age,sex\n', '1,F\n']));
    expect(b.format).toBe('csv');
    expect((await collect(b.chunks)).join('')).toBe('age,sex\n1,F\n');
  });
});
