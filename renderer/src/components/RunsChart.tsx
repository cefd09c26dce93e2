import { dateOfDay, isoDateOfDay, type RunBin, type RunsPerDay } from '../screens/audit-filters.ts';
import { formatCount } from './format.ts';

const dayText = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fullText = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const plural = (n: number, one: string, many: string): string =>
  `${formatCount(n)} ${n === 1 ? one : many}`;

function binLabel(start: number, days: number): string {
  if (days === 1) return fullText.format(dateOfDay(start));
  return `${dayText.format(dateOfDay(start))} – ${fullText.format(dateOfDay(start + days - 1))}`;
}

/** The chart's text alternative: what a sighted steward reads off the bars. */
export function chartSummary(c: RunsPerDay): string {
  const first = c.bins[0];
  const last = c.bins[c.bins.length - 1];
  if (!first || !last) return 'No enclave run and no key refusal in this selection.';
  const unit = c.days === 1 ? 'day' : c.days === 7 ? 'week' : '30 days';
  const busiest = c.bins.reduce((a, b) => (b.runs > a.runs ? b : a), first);
  const period = `from ${fullText.format(dateOfDay(first.start))} to ${fullText.format(dateOfDay(last.start + c.days - 1))}`;
  const runs = plural(c.runs, 'enclave run', 'enclave runs');
  const peak =
    c.runs > 0
      ? `; busiest ${unit}: ${binLabel(busiest.start, c.days)} (${plural(busiest.runs, 'run', 'runs')})`
      : '';
  return `${runs} ${period}${peak}. ${plural(c.refusals, 'key refusal', 'key refusals')}.`;
}

const BAR = 10;
const GAP = 2;
const HEIGHT = 100;

/**
 * Enclave runs opened (solid) and key refusals (hatched, stacked on top) per day — an SVG drawn
 * from the theme's colours. The bars are decoration for the sentence above them and the table
 * under "Show as a table", which carry the same figures for screen readers and keyboards. A bar
 * (or its day in the table, a button) narrows the period to its days.
 */
export function RunsChart({
  chart,
  onPick,
}: {
  chart: RunsPerDay;
  /** Narrows the period to one bar's days (`YYYY-MM-DD`, both included). */
  onPick: (from: string, until: string) => void;
}) {
  const pick = (b: RunBin) => onPick(isoDateOfDay(b.start), isoDateOfDay(b.start + chart.days - 1));
  const unit = chart.days === 1 ? 'day' : chart.days === 7 ? 'week' : '30 days';
  const max = Math.max(1, ...chart.bins.map((b) => b.runs + b.refusals));
  const width = Math.max(1, chart.bins.length) * (BAR + GAP);
  const scale = (n: number): number => (n / max) * (HEIGHT - 4);
  const first = chart.bins[0];
  const last = chart.bins[chart.bins.length - 1];
  return (
    <figure className="runs-chart" data-testid="runs-chart" data-runs={chart.runs}>
      <figcaption>
        <strong>Enclave runs per {unit}</strong>{' '}
        <span data-testid="chart-summary">{chartSummary(chart)}</span>
      </figcaption>
      {first && last ? (
        <>
          <div className="chart-frame">
            <span className="chart-max" aria-hidden="true">
              {formatCount(max)}
            </span>
            <svg
              className="chart-svg"
              viewBox={`0 0 ${width} ${HEIGHT}`}
              preserveAspectRatio="none"
              aria-hidden="true"
              focusable="false"
            >
              <defs>
                <pattern
                  id="refusal-hatch"
                  width="4"
                  height="4"
                  patternUnits="userSpaceOnUse"
                  patternTransform="rotate(45)"
                >
                  <rect className="chart-hatch-bg" width="4" height="4" />
                  <line className="chart-hatch" x1="0" y1="0" x2="0" y2="4" />
                </pattern>
              </defs>
              <line className="chart-axis" x1="0" x2={width} y1={HEIGHT} y2={HEIGHT} />
              {chart.bins.map((b, i) => {
                const runs = scale(b.runs);
                const refusals = scale(b.refusals);
                const x = i * (BAR + GAP) + GAP / 2;
                return (
                  <g key={b.start} className="chart-bar" onClick={() => pick(b)}>
                    <title>
                      {`${binLabel(b.start, chart.days)}: ${plural(b.runs, 'run', 'runs')}, ${plural(b.refusals, 'refusal', 'refusals')}`}
                    </title>
                    {b.runs > 0 ? (
                      <rect
                        className="chart-run"
                        x={x}
                        y={HEIGHT - runs}
                        width={BAR}
                        height={runs}
                      />
                    ) : null}
                    {b.refusals > 0 ? (
                      <rect
                        className="chart-refused"
                        x={x}
                        y={HEIGHT - runs - refusals}
                        width={BAR}
                        height={refusals}
                      />
                    ) : null}
                  </g>
                );
              })}
            </svg>
          </div>
          <div className="chart-dates" aria-hidden="true">
            <span>{dayText.format(dateOfDay(first.start))}</span>
            <span>{fullText.format(dateOfDay(last.start + chart.days - 1))}</span>
          </div>
          <div className="chart-legend">
            <span>
              <span className="swatch swatch-run" aria-hidden="true" /> Enclave runs opened
            </span>
            <span>
              <span className="swatch swatch-refused" aria-hidden="true" /> Key refusals
            </span>
            <details className="chart-table">
              <summary>Show as a table</summary>
              <table className="table table-compact">
                <caption>
                  Runs and refusals per {unit}; {unit === 'day' ? 'days' : 'periods'} without either
                  are left out. Choose one to show only its events.
                </caption>
                <thead>
                  <tr>
                    <th scope="col">{unit === 'day' ? 'Day' : 'Period'}</th>
                    <th scope="col" className="num">
                      Runs
                    </th>
                    <th scope="col" className="num">
                      Refusals
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {chart.bins
                    .filter((b) => b.runs + b.refusals > 0)
                    .map((b) => (
                      <tr key={b.start} data-testid="chart-row">
                        <th scope="row">
                          <button
                            type="button"
                            className="button-link"
                            onClick={() => pick(b)}
                            title={`Show only ${binLabel(b.start, chart.days)}`}
                          >
                            {binLabel(b.start, chart.days)}
                          </button>
                        </th>
                        <td className="num">{formatCount(b.runs)}</td>
                        <td className="num">{formatCount(b.refusals)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </details>
          </div>
        </>
      ) : null}
    </figure>
  );
}
