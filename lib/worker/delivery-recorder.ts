import { Injectable, Logger } from '@nestjs/common';
import { RetryPolicy } from '../config/retry-policy.js';
import { retryTransient } from '../store/retry-transient.js';
import { GroupCommit, type GroupMember } from '../utils/group-commit.js';
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
  private readonly commits = new GroupCommit<DeliveryRecord>((batch) => this.write(batch), { maxWeight: MAX_BATCH });

  constructor(
    private readonly store: DeliveryStore,
    private readonly queue: DeliveryQueue,
    private readonly health: EndpointHealth,
    private readonly hooks: OperationalHooks,
    private readonly policy: RetryPolicy,
  ) {}

  /** Resolves once the record is committed (rejects if the database stayed away through the retries). */
  record(record: DeliveryRecord): Promise<void> {
    return this.commits.submit(record);
  }

  /**
   * Senders hand in outcomes without waiting for the commit (their HTTP slot is better spent on the
   * next delivery), but when the database falls behind they wait here, so memory stays bounded.
   */
  async ready(): Promise<void> {
    while (this.commits.size >= MAX_WAITING) await this.commits.settled();
  }

  /** Waits until everything handed in so far is written. */
  drain(): Promise<void> {
    return this.commits.drain();
  }

  private async write(batch: Array<GroupMember<DeliveryRecord, void>>): Promise<void> {
    const records = batch.map((member) => member.item);
    try {
      await retryTransient(
        () => this.store.apply(records),
        (failures) => this.policy.transientPause(failures),
      );
    } catch (error) {
      this.logger.error(
        `Could not record ${records.length} outcomes (${(error as Error).message}); their leases will expire and they will be retried`,
      );
      throw error;
    }
    batch.forEach((member) => member.resolve());
    await this.afterCommit(records);
  }

  private async afterCommit(records: DeliveryRecord[]): Promise<void> {
    const retries = records
      .filter((r) => r.retryInMs !== undefined)
      .map((r) => ({ id: r.delivery.id, owner: r.ownerId ?? undefined, delayMs: r.retryInMs! }));
    await this.queue.enqueue(retries);
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
    await this.health
      .observe(observations)
      .catch((error) => this.logger.warn(`Could not update endpoint health: ${(error as Error).message}`));
  }
}
