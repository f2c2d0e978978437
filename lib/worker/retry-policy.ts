/** Delay before the attempt after attempt `attempt` (1-based), or null when the schedule is exhausted. */
export function nextRetryDelay(schedule: readonly number[], attempt: number, random: () => number = Math.random): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random())); // ±20 % jitter spreads retry storms
}

/**
 * `Retry-After` as ms: delta-seconds or an HTTP date. Null when absent or unreadable, so a receiver
 * cannot make us retry sooner with garbage.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const header = Array.isArray(value) ? value[0] : value;
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  // HTTP dates name their month; this keeps Date.parse from reading "-5" or "1e3" as a year.
  const date = /[A-Za-z]{3}/.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * A receiver that asks us to wait (429/503 + Retry-After) gets at least that long, up to a bound;
 * it can never pull a retry earlier than our own schedule.
 */
export function retryDelayHonouringReceiver(scheduledDelay: number, retryAfterMs: number | null, maxRetryAfterMs: number): number {
  if (retryAfterMs === null) return scheduledDelay;
  return Math.max(scheduledDelay, Math.min(retryAfterMs, maxRetryAfterMs));
}
