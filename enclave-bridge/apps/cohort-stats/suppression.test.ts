import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cell, SuppressionRule } from './suppression.ts';
import {
  COMPLEMENTARY,
  complementedCell,
  publish,
  singleCell,
  suppressGroup,
} from './suppression.ts';

const rule10: SuppressionRule = { minCellSize: 10, suppressZeros: false };

function published(counts: number[], rule: SuppressionRule): Cell[] {
  const fates = suppressGroup(counts, rule);
  return counts.map((c, i) => publish(c, fates[i] ?? 'group', rule));
}

/**
 * What a reader who knows the total, the shown cells and what each marker means can conclude about
 * hidden cell `i`: the values it can take, as an inclusive interval.
 */
function feasible(
  cells: readonly Cell[],
  total: number,
  i: number,
  rule: SuppressionRule,
): [number, number] {
  const m = rule.minCellSize;
  const lo = rule.suppressZeros ? 0 : 1;
  const small = `<${String(m)}`;
  const groupMode = !cells.includes(small);
  const shown = cells.reduce<number>((s, c) => s + (typeof c === 'number' ? c : 0), 0);
  const hidden = total - shown;
  const range = (c: Cell): [number, number] =>
    groupMode ? [0, hidden] : c === small ? [lo, m - 1] : [m, hidden];
  let othersLo = 0;
  let othersHi = 0;
  cells.forEach((c, j) => {
    if (j === i || typeof c === 'number') return;
    const [a, b] = range(c);
    othersLo += a;
    othersHi += b;
  });
  const [a, b] = range(cells[i] as Cell);
  return [Math.max(a, hidden - othersHi), Math.min(b, hidden - othersLo)];
}

describe('small-cell suppression', () => {
  it('a count of 9 is shown as <10, a count of 10 as 10', () => {
    expect(singleCell(9, rule10)).toBe('<10');
    expect(singleCell(10, rule10)).toBe(10);
    expect(singleCell(1, rule10)).toBe('<10');
    expect(singleCell(0, rule10)).toBe(0);
    expect(singleCell(0, { minCellSize: 10, suppressZeros: true })).toBe('<10');
    expect(singleCell(4, { minCellSize: 5, suppressZeros: false })).toBe('<5');
  });

  it('one small cell in a group with a known total takes the next smallest cell with it', () => {
    // Total 119 is published; hiding only the 9 would give it away as 119 − 50 − 60.
    expect(published([9, 50, 60], rule10)).toEqual(['<10', COMPLEMENTARY, 60]);
    expect(published([60, 9, 50, 0], rule10)).toEqual([60, '<10', COMPLEMENTARY, 0]);
  });

  it('two small cells whose sum pins them down are protected too', () => {
    // 9 + 9 = 18 hidden: each would be known to be exactly 9.
    expect(published([9, 9, 40, 30], rule10)).toEqual(['<10', '<10', 40, COMPLEMENTARY]);
    // 3 + 2 = 5 hidden: each is somewhere in 1 … 4, neither can be 9 — still too narrow.
    expect(published([3, 2, 40], rule10)).toEqual(['<10', '<10', COMPLEMENTARY]);
  });

  it('three small cells that leave every value possible need no complement', () => {
    // Hidden sum 12 over three cells in 1 … 9: any one can be anything from 1 to 9.
    expect(published([4, 4, 4, 50], rule10)).toEqual(['<10', '<10', '<10', 50]);
  });

  it('when no complement is enough, the whole group is hidden alike', () => {
    expect(published([4, 3, 0, 0], { minCellSize: 5, suppressZeros: false })).toEqual([
      COMPLEMENTARY,
      COMPLEMENTARY,
      COMPLEMENTARY,
      COMPLEMENTARY,
    ]);
  });

  it('nothing is hidden when no cell is small', () => {
    expect(published([10, 0, 25], rule10)).toEqual([10, 0, 25]);
  });

  it('a prevalence is hidden when it or its complement is small', () => {
    expect(complementedCell(9, 100, rule10)).toBe('<10');
    expect(complementedCell(91, 100, rule10)).toBe(COMPLEMENTARY);
    expect(complementedCell(90, 100, rule10)).toBe(90);
    expect(complementedCell(100, 100, rule10)).toBe(100);
    expect(complementedCell(0, 100, rule10)).toBe(0);
  });

  it('property: no small cell can be narrowed below its full range 1 … min−1 (or 0 …)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 2, maxLength: 6 }),
        fc.integer({ min: 5, max: 12 }),
        fc.boolean(),
        (counts, minCellSize, suppressZeros) => {
          const rule = { minCellSize, suppressZeros };
          const cells = published(counts, rule);
          const total = counts.reduce((s, c) => s + c, 0);
          // Groups are published only under a published total, which is never small.
          fc.pre(total >= minCellSize);
          const lo = suppressZeros ? 0 : 1;
          counts.forEach((count, i) => {
            const cell = cells[i] as Cell;
            const small = count < minCellSize && (count > 0 || suppressZeros);
            if (typeof cell === 'number') {
              // Shown cells are exact and never small.
              expect(cell).toBe(count);
              expect(small).toBe(false);
              return;
            }
            const [a, b] = feasible(cells, total, i, rule);
            // The truth is always consistent with what was published…
            expect(a).toBeLessThanOrEqual(count);
            expect(b).toBeGreaterThanOrEqual(count);
            // …and a small cell could be any small value.
            if (small) {
              expect(a).toBeLessThanOrEqual(lo);
              expect(b).toBeGreaterThanOrEqual(minCellSize - 1);
            }
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
