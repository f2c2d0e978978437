import { STATS_DURATION_SAMPLE } from '../../management/webhook-stats.service.js';
import { DocProperty } from './openapi-metadata.js';

const INSTANT = { type: 'string', format: 'date-time' } as const;

/** `WebhookStatsView`: one endpoint's attempts over a recent window. */
export class WebhookStats {
  @DocProperty({ type: 'string', example: 'wh_01M8M6ZGJY1JWE3GGJVW12DEZ8' })
  webhook_id!: string;

  @DocProperty({ type: 'string', example: '24h' })
  window!: string;

  @DocProperty({ ...INSTANT, description: 'The window is [since, until).' })
  since!: string;

  @DocProperty(INSTANT)
  until!: string;

  @DocProperty({
    type: 'integer',
    minimum: 0,
    description: 'Attempts started in the window, including those the circuit breaker counted without sending.',
  })
  attempts!: number;

  @DocProperty({ type: 'integer', minimum: 0, description: 'Attempts answered with a 2xx.' })
  succeeded!: number;

  @DocProperty({ type: 'integer', minimum: 0 })
  failed!: number;

  @DocProperty({ type: 'number', minimum: 0, maximum: 1, nullable: true, description: 'succeeded / attempts; null without attempts.' })
  success_rate!: number | null;

  @DocProperty({
    type: 'integer',
    minimum: 0,
    nullable: true,
    description: 'Median duration of the sent attempts (nearest rank); null when none was sent.',
  })
  p50_duration_ms!: number | null;

  @DocProperty({
    type: 'integer',
    minimum: 0,
    nullable: true,
    description: '95th percentile duration of the sent attempts (nearest rank).',
  })
  p95_duration_ms!: number | null;

  @DocProperty({
    type: 'integer',
    minimum: 0,
    maximum: STATS_DURATION_SAMPLE,
    description: `How many durations the percentiles come from: the window's latest sent attempts, at most ${STATS_DURATION_SAMPLE}.`,
  })
  durations_sampled!: number;

  @DocProperty({ ...INSTANT, nullable: true, description: 'The latest successful attempt in the window.' })
  last_success_at!: string | null;

  @DocProperty({ ...INSTANT, nullable: true, description: 'The latest failed attempt in the window.' })
  last_failure_at!: string | null;
}
