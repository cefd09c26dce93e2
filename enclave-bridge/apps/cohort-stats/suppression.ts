/**
 * Small-cell suppression. A count of 1 … min−1 patients (and 0 too when zeros are suppressed) is
 * never published: it is shown as `"<min"` (primary suppression). Where cells add up to a published
 * total, more cells are hidden (complementary suppression, shown as `"suppressed"`) until a reader
 * who knows the total, the shown cells and what each marker means still cannot narrow any `"<min"`
 * cell below its full range: every value from the smallest possible (1, or 0) to min−1 stays
 * consistent with what was published. If even hiding every cell would not achieve that, the whole
 * group is shown as `"suppressed"`, so no marker tells small from large.
 */

/** A published count: the number, or a marker. */
export type Cell = number | string;

export const COMPLEMENTARY = 'suppressed';

/** How one cell of a group is published. */
export type CellFate = 'shown' | 'primary' | 'complementary' | 'group';

export interface SuppressionRule {
  readonly minCellSize: number;
  readonly suppressZeros: boolean;
}

/** The primary-suppression marker for a rule, e.g. `"<10"`. */
export function smallMarker(rule: SuppressionRule): string {
  return `<${String(rule.minCellSize)}`;
}

/** True when a count may not be published as is. */
export function isSmall(count: number, rule: SuppressionRule): boolean {
  return count < rule.minCellSize && (count > 0 || rule.suppressZeros);
}

/** A single count with no published complement: shown or `"<min"`. */
export function singleCell(count: number, rule: SuppressionRule): Cell {
  return isSmall(count, rule) ? smallMarker(rule) : count;
}

/**
 * Whether a reader can still place every primary cell anywhere in [lo, m−1], given the sum S of the
 * hidden cells (total minus shown cells), primaries known to lie in [lo, m−1] and complementary cells
 * known to be ≥ m.
 */
function protectedEnough(
  primaries: number,
  complementaries: number,
  hiddenSum: number,
  rule: SuppressionRule,
): boolean {
  if (primaries === 0) return true;
  const m = rule.minCellSize;
  const lo = rule.suppressZeros ? 0 : 1;
  // Largest value a primary can take: the others as small as possible.
  const highestReachable = hiddenSum - (primaries - 1) * lo - complementaries * m >= m - 1;
  // Smallest value: the others as large as possible (complementary cells have no upper bound).
  const lowestReachable = complementaries > 0 || hiddenSum - (primaries - 1) * (m - 1) <= lo;
  return highestReachable && lowestReachable;
}

/**
 * Decides the fate of each cell of a group of counts that add up to a published total (the caller
 * publishes a group only when that total is itself at least min).
 * Complementary cells are taken smallest first (least information lost).
 */
export function suppressGroup(counts: readonly number[], rule: SuppressionRule): CellFate[] {
  const fates: CellFate[] = counts.map((c) => (isSmall(c, rule) ? 'primary' : 'shown'));
  const primaries = fates.filter((f) => f === 'primary').length;
  if (primaries === 0) return fates;
  let hiddenSum = counts.reduce((s, c, i) => s + (fates[i] === 'primary' ? c : 0), 0);
  let complementaries = 0;
  while (!protectedEnough(primaries, complementaries, hiddenSum, rule)) {
    let pick = -1;
    // Only cells of at least min are candidates: a reader takes a hidden non-small cell to be ≥ min,
    // and hiding a zero would add nothing to the hidden sum.
    counts.forEach((c, i) => {
      const candidate = fates[i] === 'shown' && c >= rule.minCellSize;
      if (candidate && (pick < 0 || c < (counts[pick] ?? Infinity))) pick = i;
    });
    if (pick < 0) return fates.map(() => 'group');
    fates[pick] = 'complementary';
    complementaries += 1;
    hiddenSum += counts[pick] ?? 0;
  }
  return fates;
}

/** The published form of a cell given its fate. */
export function publish(count: number, fate: CellFate, rule: SuppressionRule): Cell {
  switch (fate) {
    case 'shown':
      return count;
    case 'primary':
      return smallMarker(rule);
    case 'complementary':
    case 'group':
      return COMPLEMENTARY;
  }
}

/**
 * A count whose complement (total − count) is also known to the reader, as a prevalence is: hidden
 * when either side is small. A small complement is shown as `"suppressed"`, not `"<min"`.
 */
export function complementedCell(count: number, total: number, rule: SuppressionRule): Cell {
  if (isSmall(count, rule)) return smallMarker(rule);
  if (isSmall(total - count, rule)) return COMPLEMENTARY;
  return count;
}
