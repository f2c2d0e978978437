/** One endpoint's delivery attempts over a recent window, for dashboards. */
export interface WebhookStatsView {
  webhook_id: string;
  /** The window as asked for, such as `24h`. */
  window: string;
  /** The window is [since, until). */
  since: string;
  until: string;
  attempts: number;
  succeeded: number;
  failed: number;
  /** succeeded / attempts, from 0 to 1; null when there was no attempt. */
  success_rate: number | null;
  /** Nearest-rank percentiles of the sent attempts' durations; null when none was sent. */
  p50_duration_ms: number | null;
  p95_duration_ms: number | null;
  /** How many durations the percentiles come from: the window's latest sent attempts, at most `STATS_DURATION_SAMPLE`. */
  durations_sampled: number;
  last_success_at: string | null;
  last_failure_at: string | null;
}
