import type { Bucket } from './health';

/** Attempts per hour, succeeded stacked on failed, as inline SVG; the totals are in its label for screen readers. */
export function AttemptsChart({ buckets }: { buckets: Bucket[] }) {
  const width = 480;
  const height = 120;
  const top = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed));
  const slot = width / buckets.length;
  const bar = Math.max(2, slot - 4);
  const scale = (n: number) => (n / top) * (height - 20);
  const succeeded = buckets.reduce((n, b) => n + b.succeeded, 0);
  const failed = buckets.reduce((n, b) => n + b.failed, 0);
  const label = `Attempts per hour over the last 24 hours: ${succeeded} succeeded, ${failed} failed`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} preserveAspectRatio="none">
        <title>{label}</title>
        <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} class="axis" />
        {buckets.map((b, i) => {
          const ok = scale(b.succeeded);
          const bad = scale(b.failed);
          const x = i * slot + 2;
          return (
            <g key={b.start}>
              <title>
                {`${new Date(b.start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}: ` +
                  `${b.succeeded} succeeded, ${b.failed} failed`}
              </title>
              {bad > 0 && <rect x={x} y={height - bad} width={bar} height={bad} class="bar-failed" />}
              {ok > 0 && <rect x={x} y={height - bad - ok} width={bar} height={ok} class="bar-succeeded" />}
            </g>
          );
        })}
      </svg>
      {/* Prettier would join the two legends into a line of 141 characters. */}
      {/* prettier-ignore */}
      <figcaption>
        <span class="legend legend-succeeded">succeeded ({succeeded})</span>{' '}
        <span class="legend legend-failed">failed ({failed})</span>{' '}
        <span class="muted">per hour, last 24 h</span>
      </figcaption>
    </figure>
  );
}
