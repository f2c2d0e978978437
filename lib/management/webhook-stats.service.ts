import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { UNSENT_ATTEMPT_PREFIX, WebhookDeliveryAttemptEntity } from '../store/entities/webhook-delivery-attempt.entity.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';
import { WebhookValidationError } from '../webhooks.errors.js';
import { WebhookEndpointService } from './webhook-endpoint.service.js';
import type { WebhookStatsView } from './webhook-stats.view.js';

export const DEFAULT_STATS_WINDOW = '24h';
/** Retention keeps 30 days of finished deliveries by default; a longer window would only look empty. */
const MAX_WINDOW_MS = 30 * 86_400_000;
/** Percentiles read at most this many durations (the window's latest), so a busy endpoint costs a bounded read. */
export const STATS_DURATION_SAMPLE = 10_000;

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const WINDOW = /^([1-9][0-9]{0,4})([mhd])$/;
const SUCCEEDED = 'a.status_code >= 200 AND a.status_code < 300';

/**
 * An endpoint's attempts over a recent window. Every read is one range of the (endpoint_id,
 * started_at) index, however many attempts other endpoints have; the percentiles are computed here,
 * which reads the same on PostgreSQL, MySQL/MariaDB and SQLite.
 */
@Injectable()
export class WebhookStatsService {
  constructor(
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly endpoints: WebhookEndpointService,
  ) {}

  async stats(ownerId: string, endpointId: string, window: string = DEFAULT_STATS_WINDOW): Promise<WebhookStatsView> {
    await this.endpoints.find(ownerId, endpointId);
    const windowMs = parseStatsWindow(window);
    const until = Date.now();
    const since = until - windowMs;
    const inWindow = () =>
      this.dataSource
        .getRepository(WebhookDeliveryAttemptEntity)
        .createQueryBuilder('a')
        .where('a.endpoint_id = :endpointId', { endpointId })
        .andWhere('a.started_at >= :since AND a.started_at < :until', { since, until });
    const [totals, durations] = await Promise.all([
      inWindow()
        .select('COUNT(*)', 'attempts')
        .addSelect(`SUM(CASE WHEN ${SUCCEEDED} THEN 1 ELSE 0 END)`, 'succeeded')
        .addSelect(`MAX(CASE WHEN ${SUCCEEDED} THEN a.started_at END)`, 'last_success')
        .addSelect(`MAX(CASE WHEN ${SUCCEEDED} THEN NULL ELSE a.started_at END)`, 'last_failure')
        .getRawOne<Record<string, string | number | null>>(),
      inWindow()
        .select('a.duration_ms', 'duration')
        .andWhere('(a.error IS NULL OR a.error NOT LIKE :unsent)', { unsent: `${UNSENT_ATTEMPT_PREFIX}%` })
        .orderBy('a.started_at', 'DESC')
        .limit(STATS_DURATION_SAMPLE)
        .getRawMany<{ duration: string | number }>()
        .then((rows) => rows.map((row) => Number(row.duration)).sort((a, b) => a - b)),
    ]);
    const attempts = Number(totals?.attempts ?? 0);
    const succeeded = Number(totals?.succeeded ?? 0);
    return {
      webhook_id: endpointId,
      window,
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      attempts,
      succeeded,
      failed: attempts - succeeded,
      success_rate: attempts === 0 ? null : succeeded / attempts,
      p50_duration_ms: percentile(durations, 50),
      p95_duration_ms: percentile(durations, 95),
      durations_sampled: durations.length,
      last_success_at: instant(totals?.last_success),
      last_failure_at: instant(totals?.last_failure),
    };
  }
}

/** The window in milliseconds: a number and a unit (m, h or d), from 1m to 30d. */
export function parseStatsWindow(window: string): number {
  const match = typeof window === 'string' ? WINDOW.exec(window) : null;
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!(ms <= MAX_WINDOW_MS))
    throw new WebhookValidationError(['window must be a number and a unit (m, h or d) from 1m to 30d, such as 1h, 24h or 7d']);
  return ms;
}

/** Nearest rank: the smallest duration that at least p% of the sorted durations do not exceed. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function instant(value: string | number | null | undefined): string | null {
  return value === null || value === undefined ? null : new Date(Number(value)).toISOString();
}
