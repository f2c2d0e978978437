import { Injectable, Logger } from '@nestjs/common';
import { retryTransient } from '../store/retry-transient.js';
import { OperationalHooks } from './operational-hooks.js';
import { DeliveryQueue } from '../dispatch/delivery-queue.js';
import { DeliveryStore, type DeliveryUpdate } from '../store/delivery-store.js';
import { EndpointHealth, type EndpointObservation } from './endpoint-health.js';

export interface DeliveryRecord extends DeliveryUpdate {
  /** The endpoint's owner, when the endpoint still exists. */
  ownerId: string | null;
  /** Present when an attempt was made: how the endpoint answered. */
  observation?: EndpointObservation;
  /** Queue the next attempt this far ahead, once the record is committed. */
  retryInMs?: number;
}

/** Largest batch written in one transaction. */
const MAX_BATCH = 500;

/** Outcomes allowed to wait for the database before senders are held back. */
const MAX_WAITING = 2_000;

/**
 * Writes attempt outcomes in group commits: whatever finishes while a write is in flight goes into
 * the next one, so under load one transaction records dozens of deliveries, and when idle a single
 * outcome is written at once. Retries are queued, and endpoint health updated, after the commit.
 */
@Injectable()
export class DeliveryRecorder {
  private readonly logger = new Logger('WebhookDeliveryRecorder');
  private waiting: Array<{ record: DeliveryRecord; done: (error?: unknown) => void }> = [];
  private writing: Promise<void> | null = null;

  constructor(
    private readonly store: DeliveryStore,
    private readonly queue: DeliveryQueue,
    private readonly health: EndpointHealth,
    private readonly hooks: OperationalHooks,
  ) {}

  /** Resolves once the record is committed (rejects if the database stayed away through the retries). */
  record(record: DeliveryRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ record, done: (error) => (error ? reject(error) : resolve()) });
      this.writing ??= this.writeAll();
    });
  }

  /**
   * Senders hand in outcomes without waiting for the commit (their HTTP slot is better spent on the
   * next delivery), but when the database falls behind they wait here, so memory stays bounded.
   */
  async ready(): Promise<void> {
    while (this.waiting.length >= MAX_WAITING && this.writing) await this.writing;
  }

  /** Waits until everything handed in so far is written. */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeAll(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // let outcomes finishing in this turn join
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        const records = batch.map((entry) => entry.record);
        try {
          await retryTransient(() => this.store.apply(records));
        } catch (error) {
          this.logger.error(`Could not record ${records.length} outcomes (${(error as Error).message}); their leases will expire and they will be retried`);
          batch.forEach((entry) => entry.done(error));
          continue;
        }
        batch.forEach((entry) => entry.done());
        await this.afterCommit(records);
      }
    } finally {
      this.writing = null;
    }
  }

  private async afterCommit(records: DeliveryRecord[]): Promise<void> {
    const retries = records
      .filter((r) => r.retryInMs !== undefined)
      .map((r) => ({ id: r.delivery.id, owner: r.ownerId ?? undefined, delayMs: r.retryInMs! }));
    await this.queue.enqueueEachCommitted(retries);
    for (const { delivery, change, ownerId } of records) {
      if (change.status !== 'failed' || ownerId === null) continue;
      this.hooks.notify('onDeliveryFailed', {
        deliveryId: delivery.id,
        endpointId: delivery.endpointId,
        ownerId,
        eventId: delivery.eventId,
        eventType: delivery.eventType,
        attempts: change.attemptCount,
        lastError: change.lastError,
      });
    }
    const observations = records.flatMap((r) => (r.observation ? [r.observation] : []));
    await this.health.observe(observations).catch((error) => this.logger.warn(`Could not update endpoint health: ${(error as Error).message}`));
  }
}
