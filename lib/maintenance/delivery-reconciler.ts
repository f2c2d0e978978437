import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { In, MoreThan, type DataSource } from 'typeorm';
import { LeaderLock } from './leader-lock.js';
import { PeriodicTask } from './periodic-task.js';
import { RedisConnectionMonitor } from '../redis/redis-connection-monitor.js';
import { DeliveryQueue } from '../dispatch/delivery-queue.js';
import type { WebhooksRedis } from '../redis/webhooks-redis.js';
import { InjectWebhooksRedis } from '../webhooks.decorators.js';
import { WebhookDeliveryEntity } from '../store/entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';

const PAGE = 1_000;

/** How long the epoch check may take before the pass gives up on it. */
const EPOCH_PATIENCE_MS = 5_000;

/**
 * Puts back on the queue what Redis lost. Every worker instance runs one; a Redis lock elects the one
 * that acts. Two kinds of loss are repaired:
 * - Redis was flushed or replaced (the epoch marker is gone): every pending delivery is queued again.
 * - One delivery fell through (crash between commit and enqueue, worker killed after taking its job):
 *   pending deliveries overdue by `staleAfterMs` with no live lease are queued again.
 * Re-queued duplicates are harmless: a worker only sends what it can lease. While Redis is away there
 * is nothing to repair into, so passes are skipped; when it comes back, a pass runs at once.
 */
@Injectable()
export class DeliveryReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookReconciler');
  private readonly lock: LeaderLock;
  private readonly task: PeriodicTask;
  private stopWatchingRedis: () => void = () => undefined;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly queue: DeliveryQueue,
    private readonly redis: RedisConnectionMonitor,
    @InjectWebhooksRedis() private readonly connection: WebhooksRedis,
  ) {
    this.lock = new LeaderLock(connection.client, connection.key('reconciler:lock'), redis);
    this.task = new PeriodicTask('WebhookReconciler', options.reconciler.intervalMs, async () => {
      const count = await this.reconcile();
      if (count > 0) this.logger.log(`Queued ${count} deliveries again`);
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
    this.stopWatchingRedis = this.redis.onUp(() => this.task.runNow());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopWatchingRedis();
    await this.task.stop();
    await this.lock.release();
  }

  /** One pass; returns how many deliveries were queued again (0 while Redis is unreachable). */
  async reconcile(): Promise<number> {
    if (this.redis.isDown) return 0;
    if (!(await this.lock.acquire(3 * this.options.reconciler.intervalMs))) return 0;
    const mark = () => this.connection.client.set(this.queue.epochKey, String(Date.now()), 'NX');
    const epoch = await this.redis.command(mark, EPOCH_PATIENCE_MS);
    if (epoch === 'OK') return this.requeueAllPending();
    return this.requeueStale();
  }

  private async requeueAllPending(): Promise<number> {
    const repository = this.dataSource.getRepository(WebhookDeliveryEntity);
    let after = '';
    let count = 0;
    for (;;) {
      const page = await repository.find({
        select: { id: true, nextAttemptAt: true, endpointId: true },
        where: { status: 'pending', id: MoreThan(after) },
        order: { id: 'ASC' },
        take: PAGE,
      });
      if (page.length === 0) return count;
      await this.requeue(page);
      count += page.length;
      after = page[page.length - 1].id;
    }
  }

  private async requeueStale(): Promise<number> {
    const now = Date.now();
    const stale = await this.dataSource
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .select(['d.id', 'd.nextAttemptAt', 'd.endpointId'])
      .where('d.status = :pending', { pending: 'pending' })
      .andWhere('d.next_attempt_at <= :cutoff', { cutoff: now - this.options.reconciler.staleAfterMs })
      .andWhere('(d.lease_until IS NULL OR d.lease_until < :now)', { now })
      .orderBy('d.next_attempt_at', 'ASC')
      .take(PAGE)
      .getMany();
    await this.requeue(stale);
    return stale.length;
  }

  /** Queued with their owners, so that workers can share their room fairly between owners. */
  private async requeue(rows: Pick<WebhookDeliveryEntity, 'id' | 'nextAttemptAt' | 'endpointId'>[]): Promise<void> {
    if (rows.length === 0) return;
    const endpoints = await this.dataSource.getRepository(WebhookEndpointEntity).find({
      select: { id: true, ownerId: true },
      where: { id: In([...new Set(rows.map((row) => row.endpointId))]) },
    });
    const owners = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint.ownerId]));
    const now = Date.now();
    const items = rows.map((row) => ({ id: row.id, owner: owners.get(row.endpointId), delayMs: (row.nextAttemptAt ?? now) - now }));
    // What Redis does not take now is held and queued once it answers: counted as queued either way.
    await this.queue.enqueue(items);
  }
}
