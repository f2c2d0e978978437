import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import { retryTransient } from '../database/retry-transient.js';
import { WriteTransactions } from '../database/write-transactions.js';
import { WebhookDeliveryAttemptEntity } from '../entities/webhook-delivery-attempt.entity.js';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from '../entities/webhook-endpoint.entity.js';
import { WebhookEventEntity } from '../entities/webhook-event.entity.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';

/** A delivery this worker holds the lease on, with what sending it needs. */
export interface ClaimedDelivery {
  delivery: WebhookDeliveryEntity;
  body: string | undefined;
  endpoint: WebhookEndpointEntity | undefined;
}

/** How the delivery row changes after an attempt (or a decision not to attempt). */
export type DeliveryChange = Pick<WebhookDeliveryEntity, 'status'> &
  Partial<Pick<WebhookDeliveryEntity, 'attemptCount' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError' | 'completedAt'>>;

/** Deliveries queued a little early (clock skew between hosts) are still taken. */
const EARLY_TOLERANCE_MS = 1_000;

/** The delivery pipeline's reads and writes; every write checks the lease so a stale worker changes nothing. */
@Injectable()
export class DeliveryStore {
  constructor(
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly transactions: WriteTransactions,
  ) {}

  /**
   * Leases the due, pending, unleased deliveries among `ids` in one statement, then loads them.
   * Whatever another worker holds, or what is finished or not yet due, is left alone.
   */
  async claim(ids: readonly string[], leaseMs: number): Promise<ClaimedDelivery[]> {
    if (ids.length === 0) return [];
    const now = Date.now();
    const token = randomBytes(12).toString('base64url');
    await this.dataSource
      .createQueryBuilder()
      .update(WebhookDeliveryEntity)
      .set({ leaseToken: token, leaseUntil: now + leaseMs })
      .where('id IN (:...ids)', { ids })
      .andWhere('status = :pending', { pending: 'pending' })
      .andWhere('next_attempt_at <= :due', { due: now + EARLY_TOLERANCE_MS })
      .andWhere('(lease_until IS NULL OR lease_until < :now)', { now })
      .execute();
    const deliveries = await this.dataSource.getRepository(WebhookDeliveryEntity).find({ where: { id: In([...ids]), leaseToken: token } });
    if (deliveries.length === 0) return [];
    const [events, endpoints] = await Promise.all([
      this.dataSource.getRepository(WebhookEventEntity).find({
        select: { id: true, body: true },
        where: { id: In(unique(deliveries.map((d) => d.eventId))) },
      }),
      this.dataSource.getRepository(WebhookEndpointEntity).find({ where: { id: In(unique(deliveries.map((d) => d.endpointId))) } }),
    ]);
    const bodies = new Map(events.map((e) => [e.id, e.body]));
    const endpointsById = new Map(endpoints.map((e) => [e.id, e]));
    return deliveries.map((delivery) => ({
      delivery,
      body: bodies.get(delivery.eventId),
      endpoint: endpointsById.get(delivery.endpointId),
    }));
  }

  /** Records one attempt and the delivery's new state together; false when the lease was lost meanwhile. */
  async recordAttempt(delivery: WebhookDeliveryEntity, attempt: Omit<WebhookDeliveryAttemptEntity, 'deliveryId'>, change: DeliveryChange): Promise<boolean> {
    return retryTransient(() => this.transactions.run(async (manager) => {
      await manager
        .createQueryBuilder()
        .insert()
        .into(WebhookDeliveryAttemptEntity)
        .values({ ...attempt, deliveryId: delivery.id })
        .updateEntity(false)
        .execute();
      const result = await manager
        .createQueryBuilder()
        .update(WebhookDeliveryEntity)
        .set({ ...change, leaseToken: null, leaseUntil: null, updatedAt: Date.now() })
        .where('id = :id AND lease_token = :token', { id: delivery.id, token: delivery.leaseToken })
        .execute();
      return result.affected !== 0;
    }));
  }

  /** Settles a delivery without an attempt (endpoint gone or disabled), under the same lease check. */
  async settle(delivery: WebhookDeliveryEntity, change: DeliveryChange): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(WebhookDeliveryEntity)
      .set({ ...change, leaseToken: null, leaseUntil: null, updatedAt: Date.now() })
      .where('id = :id AND lease_token = :token', { id: delivery.id, token: delivery.leaseToken })
      .execute();
  }

  /** Gives up a lease without attempting, so the delivery can be taken again. */
  async release(delivery: WebhookDeliveryEntity): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(WebhookDeliveryEntity)
      .set({ leaseToken: null, leaseUntil: null })
      .where('id = :id AND lease_token = :token', { id: delivery.id, token: delivery.leaseToken })
      .execute();
  }

  /** Counts a failed attempt and starts the failing streak if this is its first. */
  async recordEndpointFailure(endpointId: string, at: number): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(WebhookEndpointEntity)
      .set({ failureCount: () => 'failure_count + 1', failingSince: () => `COALESCE(failing_since, ${Math.floor(at)})` })
      .where('id = :endpointId', { endpointId })
      .execute();
  }

  /** Ends a failing streak; true when there was one to end. */
  async recordEndpointSuccess(endpointId: string): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(WebhookEndpointEntity)
      .set({ failingSince: null, failureCount: 0 })
      .where('id = :endpointId AND (failing_since IS NOT NULL OR failure_count > 0)', { endpointId })
      .execute();
    return result.affected !== 0;
  }

  /** Disables an enabled endpoint; true when this call did it. */
  async disableEndpoint(endpointId: string, reason: string): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(WebhookEndpointEntity)
      .set({ enabled: false, disabledReason: reason, updatedAt: Date.now() })
      .where('id = :endpointId AND enabled = :enabled', { endpointId, enabled: true })
      .execute();
    return result.affected !== 0;
  }

  /** Hands leased deliveries back untried, due again at `until`: the endpoint is backing off. */
  async defer(deliveries: WebhookDeliveryEntity[], until: number): Promise<void> {
    if (deliveries.length === 0) return;
    await this.dataSource
      .createQueryBuilder()
      .update(WebhookDeliveryEntity)
      .set({ leaseToken: null, leaseUntil: null, nextAttemptAt: until, updatedAt: Date.now() })
      .where('id IN (:...ids) AND lease_token = :token', { ids: deliveries.map((d) => d.id), token: deliveries[0].leaseToken })
      .execute();
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
