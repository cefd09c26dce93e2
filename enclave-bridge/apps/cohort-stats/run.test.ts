import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../../../app/errors/index.ts';
import type { SyntheticPatient } from '../../../app/synthetic/index.ts';
import {
  syntheticCsv,
  syntheticFhirNdjson,
  syntheticPatients,
  writeSyntheticFile,
} from '../../../app/synthetic/index.ts';
import type { CohortStatsResult } from './index.ts';
import { run } from './index.ts';

function stream<T>(items: Iterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = items[Symbol.iterator]();
      return { next: () => Promise.resolve(iterator.next()) };
    },
  };
}

const AS_OF = '2025-01-01';
const execFileAsync = promisify(execFile);

/** Every count the result publishes as a number, with its path. */
function publishedCounts(result: CohortStatsResult): [string, number][] {
  const out: [string, number][] = [];
  if (typeof result.cohort.size === 'number') out.push(['cohort.size', result.cohort.size]);
  const s = result.statistics;
  for (const b of s?.ageBands ?? []) if (typeof b.count === 'number') out.push([b.band, b.count]);
  for (const x of s?.sex ?? []) if (typeof x.count === 'number') out.push([x.sex, x.count]);
  for (const p of s?.prevalence ?? []) {
    if (typeof p.count === 'number') out.push([p.code, p.count]);
  }
  for (const o of s?.observations ?? []) if (typeof o.n === 'number') out.push([o.code, o.n]);
  return out;
}

describe('suppression end to end', () => {
  // 40 patients: nine women aged 30, one man aged 31, thirty men aged 50.
  const rows = [
    'age,sex,diagnosis_code',
    ...Array.from({ length: 9 }, () => '30,F,I10'),
    '31,M,I10',
    ...Array.from({ length: 30 }, () => '50,M,E11'),
  ].join('\n');
  const csv = (): AsyncIterable<string> => stream([rows]);

  it('a cohort of 9 is suppressed, a cohort of 10 is shown', async () => {
    const nine = await run(csv(), { asOf: AS_OF, cohort: { ageMax: 30 } });
    expect(nine.cohort.size).toBe('<10');
    expect(nine.statistics).toBeNull();
    expect(JSON.stringify(nine)).not.toContain(':9');
    const ten = await run(csv(), { asOf: AS_OF, cohort: { ageMax: 31 } });
    expect(ten.cohort.size).toBe(10);
    expect(ten.statistics?.prevalence?.find((p) => p.code === 'I10')?.count).toBe(10);
  });

  it('a small sex cell takes the other with it, so neither 9 nor 31 can be read off the total', async () => {
    const result = await run(csv(), { asOf: AS_OF, statistics: ['sex'] });
    expect(result.cohort.size).toBe(40);
    expect(result.statistics?.sex).toEqual([
      { sex: 'female', count: '<10' },
      { sex: 'male', count: 'suppressed' },
      { sex: 'other', count: 0 },
      { sex: 'unknown', count: 0 },
    ]);
    expect(result.suppression.cells).toEqual(['statistics.sex.female', 'statistics.sex.male']);
  });

  it('a prevalence whose complement is small is hidden too', async () => {
    const result = await run(csv(), { asOf: AS_OF, cohort: { ageMin: 31 }, prevalence: ['E11'] });
    // 31 patients, 30 with E11: the one without it would be exposed.
    expect(result.statistics?.prevalence).toEqual([
      { code: 'E11', count: 'suppressed', percent: null },
    ]);
  });

  it('the input counts are withheld when the patients outside the cohort are few', async () => {
    // Cohort 31, dataset 40: the 9 outside would be readable as 40 − 31.
    const result = await run(csv(), { asOf: AS_OF, cohort: { ageMin: 31 } });
    expect(result.cohort.size).toBe(31);
    expect(result.input.counts).toBe('suppressed');
    expect(result.suppression.cells[0]).toBe('input.counts');
  });

  it('the minimum can be raised but never set below 5', async () => {
    const strict = await run(csv(), { asOf: AS_OF, minCellSize: 50 });
    expect(strict.cohort.size).toBe('<50');
    const error: unknown = await run(csv(), { minCellSize: 4 }).catch((e: unknown) => e);
    expect(isCustosError(error, 'UsageError')).toBe(true);
  });
});

/** The statistics a query should give, computed straight from the generator's model. */
function expected(
  patients: readonly SyntheticPatient[],
  cohort: { ageMin?: number; ageMax?: number; sex?: 'female' | 'male'; conditions?: string[] },
): SyntheticPatient[] {
  return patients.filter(
    (p) =>
      (cohort.sex === undefined || p.sex === cohort.sex) &&
      (cohort.ageMin === undefined || p.age >= cohort.ageMin) &&
      (cohort.ageMax === undefined || p.age <= cohort.ageMax) &&
      (cohort.conditions === undefined ||
        p.conditions.some((c) =>
          cohort.conditions?.some((prefix) =>
            c.icd10.replace('.', '').startsWith(prefix.replace('.', '')),
          ),
        )),
  );
}

describe('properties over synthetic data', () => {
  it('totals equal row counts, and shown cells add up to the cohort', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.constantFrom('fhir-ndjson' as const, 'csv' as const),
        async (n, seed, format) => {
          const input =
            format === 'csv' ? syntheticCsv(n, { seed }) : syntheticFhirNdjson(n, { seed });
          const result = await run(input, { asOf: AS_OF, format, fhirOrder: 'grouped' });
          const counts = result.input.counts;
          const small = n > 0 && n < 10;
          if (small) {
            expect(counts).toBe('suppressed');
            expect(result.cohort.size).toBe('<10');
            return;
          }
          if (counts === 'suppressed') throw new Error('counts withheld for a large dataset');
          expect(counts.patients).toBe(n);
          expect('resources' in counts ? counts.resources.Patient : counts.lines).toBe(n);
          expect(result.cohort.size).toBe(n);
          for (const group of [result.statistics?.ageBands, result.statistics?.sex]) {
            if (group === undefined) continue;
            const shown = group.reduce(
              (s, c) => s + (typeof c.count === 'number' ? c.count : 0),
              0,
            );
            if (group.every((c) => typeof c.count === 'number')) expect(shown).toBe(n);
            else expect(shown).toBeLessThan(n);
          }
        },
      ),
      {
        numRuns: 40,
        examples: [
          [0, 1, 'fhir-ndjson'],
          [0, 1, 'csv'],
          [9, 1, 'csv'],
          [10, 1, 'fhir-ndjson'],
        ],
      },
    );
  });

  const population = [...syntheticPatients(400, { seed: 77 })];
  const populationLines = (): AsyncIterable<string> => syntheticFhirNdjson(400, { seed: 77 });

  it('cohort sizes and prevalences match the model, and no published count is small', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            ageMin: fc.integer({ min: 18, max: 90 }),
            ageMax: fc.integer({ min: 18, max: 99 }),
            sex: fc.constantFrom('female' as const, 'male' as const),
            conditions: fc.subarray(['E11', 'I10', 'I2', 'I48.9', 'J44', 'N18'], {
              minLength: 1,
            }),
          },
          { requiredKeys: [] },
        ),
        fc.integer({ min: 5, max: 30 }),
        async (rawCohort, minCellSize) => {
          const cohort = { ...rawCohort };
          if (cohort.ageMin !== undefined && cohort.ageMax !== undefined) {
            if (cohort.ageMin > cohort.ageMax)
              [cohort.ageMin, cohort.ageMax] = [cohort.ageMax, cohort.ageMin];
          }
          const result = await run(populationLines(), {
            asOf: AS_OF,
            cohort,
            minCellSize,
            prevalence: ['E11', 'I10', 'I21', 'J44'],
          });
          const members = expected(population, cohort);
          const size = members.length;
          if (size > 0 && size < minCellSize)
            expect(result.cohort.size).toBe(`<${String(minCellSize)}`);
          else expect(result.cohort.size).toBe(size);

          for (const [path, value] of publishedCounts(result)) {
            expect(value === 0 || value >= minCellSize, `${path} = ${String(value)}`).toBe(true);
          }
          for (const p of result.statistics?.prevalence ?? []) {
            const truth = members.filter((m) =>
              m.conditions.some((c) => c.icd10.startsWith(p.code)),
            ).length;
            if (typeof p.count === 'number') expect(p.count).toBe(truth);
            else if (p.count === `<${String(minCellSize)}`) {
              expect(truth).toBeGreaterThan(0);
              expect(truth).toBeLessThan(minCellSize);
            } else expect(size - truth).toBeLessThan(minCellSize);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('a large generated dataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cohort-large-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is processed from a file path in constant memory when grouped by patient', async () => {
    const patients = 40_000;
    const path = join(dir, 'patients.ndjson');
    await writeSyntheticFile(path, 'fhir-ndjson', patients, { seed: 2026 });
    const size = (await stat(path)).size;
    expect(size).toBeGreaterThan(90 * 1024 * 1024);

    let open = -1;
    const grouped = await run(
      path,
      { asOf: AS_OF, fhirOrder: 'grouped' },
      { onPeakOpenPatients: (n) => (open = n) },
    );
    expect(open).toBe(1);
    expect(grouped.cohort.size).toBe(patients);

    // In a fresh Node whose heap is capped far below the file's size, the run still completes.
    const heapMiB = 48;
    expect(size).toBeGreaterThan(2 * heapMiB * 1024 * 1024);
    const script = [
      `const { run } = await import(${JSON.stringify(new URL('./index.ts', import.meta.url).href)});`,
      `const r = await run(${JSON.stringify(path)}, { asOf: '${AS_OF}', fhirOrder: 'grouped' });`,
      'process.stdout.write(JSON.stringify(r.statistics));',
    ].join('\n');
    const child = await execFileAsync(
      process.execPath,
      [`--max-old-space-size=${String(heapMiB)}`, '--input-type=module', '-e', script],
      { maxBuffer: 1024 * 1024 },
    );
    expect(JSON.parse(child.stdout)).toEqual(grouped.statistics);

    // Read by path, in any order, the statistics are the same (holding every patient meanwhile).
    let openAny = -1;
    const any = await run(path, { asOf: AS_OF }, { onPeakOpenPatients: (n) => (openAny = n) });
    expect(openAny).toBe(patients);
    expect(any.statistics).toEqual(grouped.statistics);
    expect({ ...any.parameters, fhirOrder: 'grouped' }).toEqual(grouped.parameters);
  });

  it('CSV rows are read from a path one record at a time', async () => {
    const path = join(dir, 'patients.csv');
    await writeSyntheticFile(path, 'csv', 100_000, { seed: 2026 });
    const result = await run(path, { asOf: AS_OF, statistics: ['sex'] });
    expect(result.cohort.size).toBe(100_000);
    expect(result.input.counts).toMatchObject({ lines: 100_000, patients: 100_000 });
  });

  it('a path that does not exist is NotFound', async () => {
    const error: unknown = await run(join(dir, 'missing.ndjson'), {}).catch((e: unknown) => e);
    expect(isCustosError(error, 'NotFound')).toBe(true);
  });
});
