import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { MoreThan, type DataSource } from 'typeorm';
import { DeliveryQueue } from '../delivery/delivery-queue.js';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import type { ResolvedWebhooksOptions } from '../options/resolved-options.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';

const PAGE = 1_000;

/**
 * Puts back on the queue what Redis lost. Every worker instance runs one; a Redis lock elects the one
 * that acts. Two kinds of loss are repaired:
 * - Redis was flushed or replaced (the epoch marker is gone): every pending delivery is queued again.
 * - One delivery fell through (crash between commit and enqueue, worker killed after taking its job):
 *   pending deliveries overdue by `staleAfterMs` with no live lease are queued again.
 * Re-queued duplicates are harmless: a worker only sends what it can lease.
 */
@Injectable()
export class DeliveryReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookReconciler');
  private readonly token = randomBytes(12).toString('base64url');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly queue: DeliveryQueue,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.options.reconciler.intervalMs);
    this.timer.unref();
    this.tick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.redis.eval(RELEASE_LOCK, 1, this.key('reconciler:lock'), this.token).catch(() => undefined);
  }

  /** One pass; returns how many deliveries were queued again. Exposed for tests and manual repair. */
  async reconcile(): Promise<number> {
    if (!(await this.lead())) return 0;
    const epoch = await this.redis.set(this.key('reconciler:epoch'), String(Date.now()), 'NX');
    if (epoch === 'OK') return this.requeueAllPending();
    return this.requeueStale();
  }

  private tick(): void {
    if (this.running || !this.timer) return;
    this.running = this.reconcile()
      .then((count) => {
        if (count > 0) this.logger.log(`Queued ${count} deliveries again`);
      })
      .catch((error) => this.logger.warn(`Reconcile pass failed: ${(error as Error).message}`))
      .finally(() => {
        this.running = undefined;
      });
  }

  private async lead(): Promise<boolean> {
    const ttl = 3 * this.options.reconciler.intervalMs;
    const held = await this.redis.eval(TAKE_OR_RENEW_LOCK, 1, this.key('reconciler:lock'), this.token, String(ttl));
    return held === 1;
  }

  private async requeueAllPending(): Promise<number> {
    const repository = this.dataSource.getRepository(WebhookDeliveryEntity);
    let after = '';
    let count = 0;
    for (;;) {
      const page = await repository.find({
        select: { id: true, nextAttemptAt: true },
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
      .select(['d.id', 'd.nextAttemptAt'])
      .where('d.status = :pending', { pending: 'pending' })
      .andWhere('d.next_attempt_at <= :cutoff', { cutoff: now - this.options.reconciler.staleAfterMs })
      .andWhere('(d.lease_until IS NULL OR d.lease_until < :now)', { now })
      .orderBy('d.next_attempt_at', 'ASC')
      .take(PAGE)
      .getMany();
    await this.requeue(stale);
    return stale.length;
  }

  private async requeue(rows: Pick<WebhookDeliveryEntity, 'id' | 'nextAttemptAt'>[]): Promise<void> {
    const now = Date.now();
    const due = rows.filter((row) => (row.nextAttemptAt ?? 0) <= now).map((row) => row.id);
    await this.queue.enqueue(due);
    for (const row of rows) {
      if ((row.nextAttemptAt ?? 0) > now) await this.queue.enqueue([row.id], row.nextAttemptAt! - now);
    }
  }

  private get redis() {
    return this.queue.queue.client;
  }

  private key(suffix: string): string {
    return this.queue.queue.toKey(suffix);
  }
}

const TAKE_OR_RENEW_LOCK = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
