import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../../app/errors/index.ts';
import { csvRecords } from './csv.ts';
import { run } from './index.ts';

function stream<T>(items: Iterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = items[Symbol.iterator]();
      return { next: () => Promise.resolve(iterator.next()) };
    },
  };
}

/** Twelve hand-made rows; headers in mixed case, CRLF endings, a quoted field with everything. */
const CSV = [
  'patient_id,Age,Sex,diagnosis_code,diagnosis,systolic_bp,cholesterol_mmol_l,BMI,notes',
  'C1,25,F,E11.9,"Type 2 diabetes mellitus",120,5.0,30,',
  'C2,35,F,I10;E11,"Hypertension, diabetes",130,6.0,,',
  'C3,45,female,,,140,,25,"said ""fine"", then left"',
  'C4,55,F,I10,"Essential hypertension",150,4.0,28,"two\nlines — Zürich"',
  'C5,65,F,E78.5,Hyperlipidaemia,160,5.0,,',
  'C6,75,F,I10,Hypertension,170,7.0,31,',
  'C7,30,M,,,110,,,',
  'C8,40,M,e11,Diabetes,125,5.5,27,',
  'C9,50,male,I10|E11.9,"Hypertension; diabetes",135,4.5,29,',
  'C10,60,M,E11,Diabetes,145,6.5,,',
  'C11,70,M,I21.9 E11.9,"MI, diabetes",155,,26,',
  'C12,,U,,,,,,',
].join('\r\n');

const base = { asOf: '2025-01-01', minCellSize: 5 };

describe('cohort statistics over CSV (known answers)', () => {
  it('reads the header-named columns and computes exact statistics', async () => {
    const result = await run(stream([CSV]), {
      ...base,
      ageBands: [0, 40, 60],
      prevalence: ['E11', 'I10', 'I21'],
      observations: ['8480-6', '14647-2', '39156-5'],
    });
    expect(result.input).toEqual({
      format: 'csv',
      counts: { lines: 12, ignoredColumns: ['patient_id', 'diagnosis', 'notes'], patients: 12 },
    });
    expect(result.cohort.size).toBe(12);
    // 3 / 4 / 4 / 1: hidden sum 12 over four cells of 1 … 4 leaves each any of 1 … 4.
    expect(result.statistics?.ageBands?.map((b) => b.count)).toEqual(['<5', '<5', '<5', '<5']);
    expect(result.statistics?.prevalence).toEqual([
      { code: 'E11', count: 6, percent: 50 },
      { code: 'I10', count: '<5', percent: null },
      { code: 'I21', count: '<5', percent: null },
    ]);
    // SBP 120 130 140 150 160 170 110 125 135 145 155: mean 140, Σd² 3300 → sd √330.
    // Cholesterol 5 6 4 5 7 5.5 4.5 6.5: mean 5.4375, Σd² 7.21875 → sd √1.03125.
    // BMI 30 25 28 31 27 29 26: mean 28, Σd² 28 → sd √(28/6).
    expect(
      result.statistics?.observations?.map(({ code, n, mean, std }) => ({ code, n, mean, std })),
    ).toEqual([
      { code: '8480-6', n: 11, mean: 140, std: 18.17 },
      { code: '14647-2', n: 8, mean: 5.44, std: 1.02 },
      { code: '39156-5', n: 7, mean: 28, std: 2.16 },
    ]);
  });

  it('splits RFC 4180 records across any chunking, quotes and line breaks included', async () => {
    const whole: string[][] = [];
    for await (const r of csvRecords(stream([CSV]), 1000)) whole.push(r.fields);
    expect(whole).toHaveLength(13);
    expect(whole[3]?.[8]).toBe('said "fine", then left');
    expect(whole[4]?.[8]).toBe('two\nlines — Zürich');
    const bytes = new TextEncoder().encode(CSV);
    for (const size of [1, 2, 3, 5, 64]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const reference = await run(stream([CSV]), base);
      expect(await run(stream(chunks), base)).toEqual(reference);
    }
  });

  it('a birth date column gives ages at the reference date', async () => {
    const rows = ['birth_date,sex', ...Array.from({ length: 12 }, () => '1980-06-15,F')];
    const result = await run(stream([rows.join('\n')]), {
      ...base,
      asOf: '2025-06-14',
      cohort: { ageMin: 44, ageMax: 44 },
    });
    expect(result.cohort.size).toBe(12);
    const older = await run(stream([rows.join('\n')]), {
      ...base,
      asOf: '2025-06-15',
      cohort: { ageMin: 44, ageMax: 44 },
    });
    expect(older.cohort.size).toBe(0);
  });
});

describe('malformed CSV is a MalformedRecord naming the line', () => {
  const header = 'age,sex,diagnosis_code,systolic_bp';
  it.each([
    ['a row with too few fields', [header, '40,F,I10,120', '41,F,I10'], 3],
    ['a row with too many fields', [header, '40,F,I10,120,extra'], 2],
    ['a stray quote', [header, '40,F,I"10,120'], 2],
    ['a quoted field followed by text', [header, '40,F,"I10"x,120'], 2],
    ['a quoted field never closed', [header, '40,F,"I10,120'], 2],
    ['an impossible sex', [header, '40,Q,I10,120'], 2],
    ['an age that is not whole years', [header, '40.5,F,I10,120'], 2],
    ['a value that is not a number', [header, '40,F,I10,high'], 2],
    ['a code that is not ICD-10', [header, '40,F,123,120'], 2],
    ['a header with no known column', ['foo,bar', '1,2'], 1],
    ['a header naming age twice', ['age,age_years', '1,2'], 1],
  ])('%s', async (_name, lines, line) => {
    const error: unknown = await run(stream([lines.join('\n')]), { ...base, format: 'csv' }).catch(
      (e: unknown) => e,
    );
    expect(isCustosError(error, 'MalformedRecord')).toBe(true);
    expect((error as { details: { line: number } }).details.line).toBe(line);
  });

  it('an empty input has no header', async () => {
    const error: unknown = await run(stream(['']), base).catch((e: unknown) => e);
    expect(isCustosError(error, 'MalformedRecord')).toBe(true);
  });
});
