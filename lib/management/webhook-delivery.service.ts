import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { WriteTransactions } from '../store/write-transactions.js';
import { DeliveryDispatcher } from '../dispatch/delivery-dispatcher.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../store/entities/delivery-status.js';
import { WebhookDeliveryAttemptEntity } from '../store/entities/webhook-delivery-attempt.entity.js';
import { WebhookDeliveryEntity } from '../store/entities/webhook-delivery.entity.js';
import type { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import { WebhookEventEntity } from '../store/entities/webhook-event.entity.js';
import { WebhookEndpointService } from './webhook-endpoint.service.js';
import { isId, newId } from '../utils/id.js';
import { DEFAULT_PAGE_SIZE, pageNewestFirst, type Page } from '../store/pagination.js';
import { serializeEvent } from '../emit/event-envelope.js';
import { newDelivery } from '../emit/event-writer.js';
import { TEST_EVENT_TYPE, WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';
import { WebhookConflictError, WebhookNotFoundError, WebhookValidationError } from '../webhooks.errors.js';
import { toAttemptView, toDeliveryView, type WebhookDeliveryDetailView, type WebhookDeliveryView } from './webhook-delivery.view.js';

/** Statuses `recover` replays: what failed, and what was skipped while the endpoint was disabled. */
const RECOVERABLE: DeliveryStatus[] = ['failed', 'skipped'];
const RECOVER_PAGE = 500;

/** Delivery history and the operator's levers (retry, recover, test), scoped to one owner's endpoint. */
@Injectable()
export class WebhookDeliveryService {
  constructor(
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly endpoints: WebhookEndpointService,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly transactions: WriteTransactions,
  ) {}

  async list(
    ownerId: string,
    endpointId: string,
    options: { status?: DeliveryStatus; limit?: number; cursor?: string } = {},
  ): Promise<Page<WebhookDeliveryView>> {
    await this.endpoints.find(ownerId, endpointId);
    if (options.status !== undefined && !DELIVERY_STATUSES.includes(options.status)) {
      throw new WebhookValidationError([`status must be one of ${DELIVERY_STATUSES.join(', ')}`]);
    }
    const query = this.deliveries.createQueryBuilder('d').where('d.endpoint_id = :endpointId', { endpointId });
    if (options.status) query.andWhere('d.status = :status', { status: options.status });
    const { rows, next_cursor } = await pageNewestFirst(query, 'd', options.limit ?? DEFAULT_PAGE_SIZE, options.cursor);
    return { data: rows.map(toDeliveryView), next_cursor };
  }

  async get(ownerId: string, endpointId: string, deliveryId: string): Promise<WebhookDeliveryDetailView> {
    const { delivery } = await this.find(ownerId, endpointId, deliveryId);
    const [attempts, event] = await Promise.all([
      this.dataSource.getRepository(WebhookDeliveryAttemptEntity).find({ where: { deliveryId }, order: { attempt: 'ASC', id: 'ASC' } }),
      this.dataSource.getRepository(WebhookEventEntity).findOne({ select: { id: true, body: true }, where: { id: delivery.eventId } }),
    ]);
    return { ...toDeliveryView(delivery), payload: event ? JSON.parse(event.body) : null, attempts: attempts.map(toAttemptView) };
  }

  /** Queues a finished delivery for one more attempt now. */
  async retry(ownerId: string, endpointId: string, deliveryId: string): Promise<WebhookDeliveryView> {
    const { endpoint, delivery } = await this.find(ownerId, endpointId, deliveryId);
    assertEnabled(endpoint);
    if (delivery.status === 'pending') throw new WebhookConflictError('delivery is already pending');
    const now = await this.reopen([delivery.id], [delivery.status]);
    await this.dispatcher.dispatch([{ owner: ownerId, ids: [delivery.id] }]);
    return toDeliveryView({ ...delivery, status: 'pending', nextAttemptAt: now, completedAt: null, updatedAt: now });
  }

  /**
   * Replays failed and skipped deliveries created in [since, until). Skipped ones get the full retry
   * schedule; failed ones get at least one more attempt (attempt numbers keep counting up),
   * typically after an outage and `PATCH {"enabled": true}`.
   */
  async recover(ownerId: string, endpointId: string, since: Date, until: Date = new Date()): Promise<{ recovering: number }> {
    const endpoint = await this.endpoints.find(ownerId, endpointId);
    const problems = [
      ...(Number.isNaN(since.getTime()) ? ['since must be a date-time such as 2026-01-01T00:00:00Z'] : []),
      ...(Number.isNaN(until.getTime()) ? ['until must be a date-time such as 2026-01-01T00:00:00Z'] : []),
    ];
    if (problems.length === 0 && !(since.getTime() < until.getTime())) problems.push('since must be earlier than until');
    if (problems.length > 0) throw new WebhookValidationError(problems);
    assertEnabled(endpoint);
    let recovering = 0;
    let after = '';
    for (;;) {
      const ids = await this.deliveries
        .createQueryBuilder('d')
        .select('d.id')
        .where('d.endpoint_id = :endpointId AND d.status IN (:...recoverable)', { endpointId, recoverable: RECOVERABLE })
        .andWhere('d.created_at >= :since AND d.created_at < :until', { since: since.getTime(), until: until.getTime() })
        .andWhere('d.id > :after', { after })
        .orderBy('d.id', 'ASC')
        .take(RECOVER_PAGE)
        .getMany()
        .then((rows) => rows.map((row) => row.id));
      if (ids.length === 0) return { recovering };
      await this.reopen(ids, RECOVERABLE);
      await this.dispatcher.dispatch([{ owner: ownerId, ids }]);
      recovering += ids.length;
      after = ids[ids.length - 1];
    }
  }

  /** Sends a signed `webhook.test` event to this endpoint only. */
  async sendTest(ownerId: string, endpointId: string): Promise<{ event_id: string; delivery_id: string }> {
    const endpoint = await this.endpoints.find(ownerId, endpointId);
    assertEnabled(endpoint);
    const createdAt = new Date();
    const id = newId('evt', createdAt.getTime());
    const body = serializeEvent(id, TEST_EVENT_TYPE, createdAt, {
      webhook_id: endpoint.id,
      message: 'This is a test event from nestjs-webhooks.',
    });
    const event = { id, ownerId, type: TEST_EVENT_TYPE, body, idempotencyKey: null, createdAt: createdAt.getTime() };
    const delivery = newDelivery(event, endpoint.id, true);
    await this.transactions.run(async (manager) => {
      await manager.insert(WebhookEventEntity, event);
      await manager.insert(WebhookDeliveryEntity, delivery);
    });
    await this.dispatcher.dispatch([{ owner: ownerId, ids: [delivery.id] }]);
    return { event_id: id, delivery_id: delivery.id };
  }

  /** Back to `pending`, due now; the status check keeps a concurrent change intact. */
  private async reopen(ids: string[], fromStatuses: DeliveryStatus[]): Promise<number> {
    const now = Date.now();
    await this.deliveries
      .createQueryBuilder()
      .update()
      .set({ status: 'pending', nextAttemptAt: now, completedAt: null, updatedAt: now })
      .where('id IN (:...ids) AND status IN (:...fromStatuses)', { ids, fromStatuses })
      .execute();
    return now;
  }

  /** The owner's endpoint and one of its deliveries; anything else is "not found". */
  private async find(
    ownerId: string,
    endpointId: string,
    deliveryId: string,
  ): Promise<{ endpoint: WebhookEndpointEntity; delivery: WebhookDeliveryEntity }> {
    const endpoint = await this.endpoints.find(ownerId, endpointId);
    if (!isId('dlv', deliveryId)) throw new WebhookNotFoundError('delivery');
    const delivery = await this.deliveries.findOne({ where: { id: deliveryId, endpointId } });
    if (!delivery) throw new WebhookNotFoundError('delivery');
    return { endpoint, delivery };
  }

  private get deliveries() {
    return this.dataSource.getRepository(WebhookDeliveryEntity);
  }
}

function assertEnabled(endpoint: WebhookEndpointEntity): void {
  if (!endpoint.enabled) throw new WebhookConflictError('webhook is disabled; enable it with PATCH {"enabled": true} first');
}
