import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { WebhookDeliveryEntity } from './entities/webhook-delivery.entity.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';

/** The `pending` deliveries of the whole database, as of `readAt`. */
export interface BacklogReading {
  pending: number;
  /** When the longest-waiting pending delivery became due; null when none is pending. */
  oldestDueAt: number | null;
  readAt: number;
}

/**
 * How long the longest-waiting pending delivery has been due, at `now`: for a first attempt, the time
 * since its event was emitted; for a retry, since its retry fell due. A delivery waiting for a retry
 * that is not yet due is not late, so it adds nothing.
 */
export function oldestPendingAgeMs(reading: BacklogReading, now: number): number {
  return reading.oldestDueAt === null ? 0 : Math.max(0, now - reading.oldestDueAt);
}

/**
 * Reads the backlog for metrics and health checks: one statement over the (status, next_attempt_at)
 * index, which holds every pending delivery in due order, so it reads the pending entries only,
 * never the finished rows. Readings are shared: however often it is asked, it queries at most once
 * per `maxAgeMs`, and concurrent callers wait for the same query.
 */
@Injectable()
export class DeliveryBacklog {
  private last: BacklogReading | null = null;
  private inFlight: Promise<BacklogReading> | null = null;

  constructor(@Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource) {}

  read(maxAgeMs: number): Promise<BacklogReading> {
    if (this.last && Date.now() - this.last.readAt < maxAgeMs) return Promise.resolve(this.last);
    this.inFlight ??= this.query()
      .then((reading) => (this.last = reading))
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private async query(): Promise<BacklogReading> {
    const row: { pending: string | number | null; due: string | number | null } | undefined = await this.dataSource
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .select('COUNT(*)', 'pending')
      .addSelect('MIN(d.nextAttemptAt)', 'due')
      .where('d.status = :status', { status: 'pending' })
      .getRawOne();
    return {
      pending: Number(row?.pending ?? 0),
      oldestDueAt: row?.due === null || row?.due === undefined ? null : Number(row.due),
      readAt: Date.now(),
    };
  }
}
