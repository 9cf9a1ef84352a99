// Counts over time as SVG bars: one bar per bucket, the tallest scaled to the chart's height.
import type { CountsResponse } from '../api-types';
import { countOf, dateTimeOf, plural } from '../format';

export interface BarChartProps {
  buckets: CountsResponse['buckets'];
  bucket: 'minute' | 'hour' | 'day';
}

const WIDTH = 1000;
const HEIGHT = 120;
const AXIS = 18;

export function BarChart({ buckets, bucket }: BarChartProps) {
  if (buckets.length === 0) {
    return <div class="chart chart-empty muted">No records in this range.</div>;
  }
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const slot = WIDTH / buckets.length;
  const gap = slot > 6 ? Math.min(2, slot * 0.15) : 0;
  const label = (iso: string): string =>
    bucket === 'day'
      ? dateTimeOf(iso).slice(0, 10)
      : bucket === 'hour'
        ? dateTimeOf(iso).slice(5, 16)
        : dateTimeOf(iso).slice(11, 16);
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  return (
    <figure class="chart" aria-label={`Records per ${bucket}`}>
      <figcaption>
        <span>
          {plural(total, 'record')}, per {bucket}
        </span>
        <span class="muted">max {countOf(max)}</span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + AXIS}`} preserveAspectRatio="none" role="img">
        <line x1="0" y1={HEIGHT + 0.5} x2={WIDTH} y2={HEIGHT + 0.5} class="chart-axis" />
        {buckets.map((b, index) => {
          const h = b.count === 0 ? 0 : Math.max(2, (b.count / max) * (HEIGHT - 4));
          return (
            <rect
              key={b.start}
              x={index * slot + gap / 2}
              y={HEIGHT - h}
              width={Math.max(0.5, slot - gap)}
              height={h}
              class="chart-bar"
            >
              <title>
                {dateTimeOf(b.start)}: {countOf(b.count)}
              </title>
            </rect>
          );
        })}
      </svg>
      <div class="chart-labels muted">
        <span>{first ? label(first.start) : ''}</span>
        <span>{last ? label(last.start) : ''}</span>
      </div>
    </figure>
  );
}
