/**
 * Aggregate measures of predicted risks against observed outcomes — the only things the training
 * card and the inference result say about records. Bins with fewer than `minCellSize` patients are
 * shown as suppressed, never with their count.
 */

/** Area under the ROC curve (Mann–Whitney, ties counted half); null without both classes. */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = p.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (p[a] as number) - (p[b] as number),
  );
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && p[idx[j + 1] as number] === p[idx[i] as number]) j += 1;
    const rank = (i + j) / 2 + 1; // average rank of the tie group, 1-based
    for (let t = i; t <= j; t += 1) {
      if (y[idx[t] as number] === 1) {
        positives += 1;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface CalibrationBin {
  /** Predicted-risk range [from, to). */
  readonly from: number;
  readonly to: number;
  /** Patients in the bin, or `suppressed` when fewer than the minimum cell size. */
  readonly patients: number | 'suppressed';
  readonly meanPredicted: number | null;
  readonly observedRate: number | null;
}

export interface Metrics {
  readonly patients: number;
  readonly positives: number | 'suppressed';
  readonly observedRate: number;
  readonly meanPredicted: number;
  readonly auc: number | null;
  /** Share classified right at the 0.5 threshold. */
  readonly accuracy: number;
  /** Mean squared error of the predicted risk. */
  readonly brier: number;
  readonly logLoss: number;
  /** Expected calibration error: patient-weighted mean |predicted − observed| over the bins. */
  readonly expectedCalibrationError: number;
  readonly calibration: readonly CalibrationBin[];
}

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Equal-width bins of predicted risk over [0, 1]: counts (suppressed when small). */
export function calibrationBins(
  p: ArrayLike<number>,
  y: ArrayLike<number> | null,
  bins: number,
  minCellSize: number,
): { bins: CalibrationBin[]; ece: number | null } {
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  for (let i = 0; i < p.length; i += 1) {
    const b = Math.min(bins - 1, Math.floor((p[i] as number) * bins));
    count[b] = (count[b] as number) + 1;
    sumP[b] = (sumP[b] as number) + (p[i] as number);
    if (y) sumY[b] = (sumY[b] as number) + (y[i] as number);
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b += 1) {
    const c = count[b] as number;
    const meanP = c > 0 ? (sumP[b] as number) / c : null;
    const obs = c > 0 && y ? (sumY[b] as number) / c : null;
    if (meanP !== null && obs !== null) ece += (c / p.length) * Math.abs(meanP - obs);
    const small = c > 0 && c < minCellSize;
    out.push({
      from: round(b / bins),
      to: round((b + 1) / bins),
      patients: small ? 'suppressed' : c,
      meanPredicted: small || meanP === null ? null : round(meanP),
      observedRate: small || obs === null ? null : round(obs),
    });
  }
  return { bins: out, ece: y ? ece : null };
}

/** Every measure of predicted risks `p` against outcomes `y` (0/1). */
export function metrics(
  p: ArrayLike<number>,
  y: ArrayLike<number>,
  options: { bins: number; minCellSize: number },
): Metrics {
  const n = p.length;
  let positives = 0;
  let sumP = 0;
  let correct = 0;
  let brier = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i += 1) {
    const pi = p[i] as number;
    const yi = y[i] as number;
    positives += yi;
    sumP += pi;
    if ((pi >= 0.5 ? 1 : 0) === yi) correct += 1;
    brier += (pi - yi) ** 2;
    const clamped = Math.min(1 - 1e-15, Math.max(1e-15, pi));
    logLoss -= yi === 1 ? Math.log(clamped) : Math.log(1 - clamped);
  }
  const { bins, ece } = calibrationBins(p, y, options.bins, options.minCellSize);
  const a = auc(p, y);
  const small = (c: number): boolean => c > 0 && c < options.minCellSize;
  return {
    patients: n,
    positives: small(positives) || small(n - positives) ? 'suppressed' : positives,
    observedRate: round(n ? positives / n : 0),
    meanPredicted: round(n ? sumP / n : 0),
    auc: a === null ? null : round(a),
    accuracy: round(n ? correct / n : 0),
    brier: round(n ? brier / n : 0),
    logLoss: round(n ? logLoss / n : 0),
    expectedCalibrationError: round(ece ?? 0),
    calibration: bins,
  };
}
