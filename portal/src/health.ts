import { ApiError, query, type Api, type Delivery, type Page } from './api';

export const WINDOW_MS = 24 * 60 * 60 * 1_000;

export interface Health {
  attempts: number;
  succeeded: number;
  failed: number;
  /** 0 to 1, null without attempts. */
  rate: number | null;
  p50: number | null;
  p95: number | null;
  lastSuccess: string | null;
  lastFailure: string | null;
  /** 'stats': the stats route's exact counts; 'deliveries': estimated from the recent deliveries read. */
  source: 'stats' | 'deliveries';
  /** Only for 'deliveries': more deliveries exist in the window than were read. */
  partial: boolean;
}

export interface Activity {
  deliveries: Delivery[];
  /** More deliveries in the window than the pages read. */
  truncated: boolean;
}

/**
 * The last 24 h of deliveries, newest first, a page of 100 at a time and at most `pages` pages:
 * enough for the chart and an estimate without ever reading a whole history.
 */
export async function recentActivity(api: Api, id: string, pages: number, now = Date.now()): Promise<Activity> {
  const since = now - WINDOW_MS;
  const deliveries: Delivery[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < pages; page++) {
    const result = await api.get<Page<Delivery>>(`/${id}/deliveries${query({ limit: 100, cursor })}`);
    const recent = result.data.filter((d) => Date.parse(d.created_at) >= since);
    deliveries.push(...recent);
    if (recent.length < result.data.length || !result.next_cursor) return { deliveries, truncated: false };
    cursor = result.next_cursor;
  }
  return { deliveries, truncated: true };
}

/** Attempts of a delivery as succeeded/failed: a succeeded delivery's last attempt succeeded, every other one failed. */
export function attemptsOf(delivery: Delivery): { succeeded: number; failed: number } {
  if (delivery.status === 'succeeded') return { succeeded: 1, failed: Math.max(0, delivery.attempt_count - 1) };
  return { succeeded: 0, failed: delivery.attempt_count };
}

/** The stats route (`GET /:id/stats?window=24h`) when the API has it, otherwise an estimate from the recent deliveries. */
export async function loadHealth(api: Api, id: string, activity: () => Promise<Activity>): Promise<Health> {
  try {
    const stats = await api.get<any>(`/${id}/stats?window=24h`);
    if (typeof stats?.attempts === 'number') {
      return {
        attempts: stats.attempts,
        succeeded: stats.succeeded ?? 0,
        failed: stats.failed ?? 0,
        rate: stats.success_rate ?? null,
        p50: stats.p50_duration_ms ?? null,
        p95: stats.p95_duration_ms ?? null,
        lastSuccess: stats.last_success_at ?? null,
        lastFailure: stats.last_failure_at ?? null,
        source: 'stats',
        partial: false,
      };
    }
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
  const { deliveries, truncated } = await activity();
  let succeeded = 0;
  let failed = 0;
  let lastSuccess: string | null = null;
  let lastFailure: string | null = null;
  for (const delivery of deliveries) {
    const counts = attemptsOf(delivery);
    succeeded += counts.succeeded;
    failed += counts.failed;
    if (counts.succeeded && (!lastSuccess || delivery.updated_at > lastSuccess)) lastSuccess = delivery.updated_at;
    if (delivery.status === 'failed' && (!lastFailure || delivery.updated_at > lastFailure)) lastFailure = delivery.updated_at;
  }
  const attempts = succeeded + failed;
  return {
    attempts,
    succeeded,
    failed,
    rate: attempts ? succeeded / attempts : null,
    p50: null,
    p95: null,
    lastSuccess,
    lastFailure,
    source: 'deliveries',
    partial: truncated,
  };
}

export interface Bucket {
  start: number;
  succeeded: number;
  failed: number;
}

/** Hourly buckets over the window; each delivery's attempts are placed at its last activity (`updated_at`). */
export function hourlyBuckets(deliveries: Delivery[], now = Date.now(), hours = 24): Bucket[] {
  const size = 60 * 60 * 1_000;
  const end = Math.ceil(now / size) * size;
  const buckets: Bucket[] = Array.from({ length: hours }, (_, i) => ({ start: end - (hours - i) * size, succeeded: 0, failed: 0 }));
  for (const delivery of deliveries) {
    const index = Math.floor((Date.parse(delivery.updated_at) - (end - hours * size)) / size);
    if (index < 0 || index >= hours) continue;
    const counts = attemptsOf(delivery);
    buckets[index].succeeded += counts.succeeded;
    buckets[index].failed += counts.failed;
  }
  return buckets;
}
