import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { LeaderLock } from './leader-lock.js';
import { PeriodicTask } from './periodic-task.js';
import { RedisConnectionMonitor } from '../redis/redis-connection-monitor.js';
import { WriteTransactions } from '../store/write-transactions.js';
import type { WebhooksRedis } from '../redis/webhooks-redis.js';
import { InjectWebhooksRedis } from '../webhooks.decorators.js';
import { WebhookDeliveryAttemptEntity } from '../store/entities/webhook-delivery-attempt.entity.js';
import { WebhookDeliveryEntity } from '../store/entities/webhook-delivery.entity.js';
import { WebhookEventEntity } from '../store/entities/webhook-event.entity.js';
import { idFloor } from '../utils/id.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';

const DAY = 24 * 60 * 60 * 1_000;

/** Batches one pass may delete, so a long backlog is worked off over several passes. */
const MAX_BATCHES_PER_PASS = 100;

export interface PurgeCounts {
  deliveries: number;
  events: number;
}

/**
 * Deletes history older than `retention.days`: finished deliveries with their attempts, then events
 * no delivery refers to any more. Age is read from the time-ordered ids (the primary key), so each
 * batch is an index range scan, and each batch is its own short transaction.
 */
@Injectable()
export class RetentionPurger implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookRetention');
  private readonly lock: LeaderLock;
  private readonly task: PeriodicTask | null;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly transactions: WriteTransactions,
    private readonly redis: RedisConnectionMonitor,
    @InjectWebhooksRedis() connection: WebhooksRedis,
  ) {
    this.lock = new LeaderLock(connection.client, connection.key('retention:lock'), redis);
    const retention = options.retention;
    this.task = retention
      ? new PeriodicTask('WebhookRetention', retention.intervalMs, async () => {
          // The lock elects one purger; without Redis, the purge waits for its next pass.
          if (!(await this.lock.acquire(2 * retention.intervalMs))) return;
          const purged = await this.purge();
          if (purged.deliveries + purged.events > 0) this.logger.log(`Purged ${purged.deliveries} deliveries and ${purged.events} events`);
        })
      : null;
  }

  onApplicationBootstrap(): void {
    this.task?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task?.stop();
    await this.lock.release();
  }

  /** One pass over everything older than the retention window (or than `now - days` given). */
  async purge(now = Date.now()): Promise<PurgeCounts> {
    const retention = this.options.retention;
    if (!retention) return { deliveries: 0, events: 0 };
    const cutoff = now - retention.days * DAY;
    const counts = { deliveries: 0, events: 0 };
    for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
      const deleted = await this.purgeDeliveries(idFloor('dlv', cutoff), retention.batchSize);
      counts.deliveries += deleted;
      if (deleted < retention.batchSize) break;
    }
    for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
      const deleted = await this.purgeEvents(idFloor('evt', cutoff), retention.batchSize);
      counts.events += deleted;
      if (deleted < retention.batchSize) break;
    }
    return counts;
  }

  private async purgeDeliveries(before: string, batchSize: number): Promise<number> {
    const ids = await this.dataSource
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .select('d.id')
      .where('d.id < :before AND d.status <> :pending', { before, pending: 'pending' })
      .orderBy('d.id', 'ASC')
      .take(batchSize)
      .getMany()
      .then((rows) => rows.map((row) => row.id));
    if (ids.length === 0) return 0;
    await this.transactions.run(async (manager) => {
      await manager.createQueryBuilder().delete().from(WebhookDeliveryAttemptEntity).where('delivery_id IN (:...ids)', { ids }).execute();
      await manager
        .createQueryBuilder()
        .delete()
        .from(WebhookDeliveryEntity)
        .where('id IN (:...ids) AND status <> :pending', { ids, pending: 'pending' })
        .execute();
    });
    return ids.length;
  }

  private async purgeEvents(before: string, batchSize: number): Promise<number> {
    const ids = await this.dataSource
      .getRepository(WebhookEventEntity)
      .createQueryBuilder('e')
      .select('e.id')
      .where('e.id < :before', { before })
      .andWhere(
        (query) => `NOT EXISTS ${query.subQuery().select('1').from(WebhookDeliveryEntity, 'd').where('d.event_id = e.id').getQuery()}`,
      )
      .orderBy('e.id', 'ASC')
      .take(batchSize)
      .getMany()
      .then((rows) => rows.map((row) => row.id));
    if (ids.length === 0) return 0;
    await this.dataSource.createQueryBuilder().delete().from(WebhookEventEntity).where('id IN (:...ids)', { ids }).execute();
    return ids.length;
  }
}
