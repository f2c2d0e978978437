import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bull';
import { RetryPolicy } from '../config/retry-policy.js';
import type { WebhooksRedis } from '../redis/webhooks-redis.js';
import { InjectWebhooksRedis } from '../webhooks.decorators.js';
import { RedisConnectionMonitor } from '../redis/redis-connection-monitor.js';
import { WEBHOOKS_QUEUE } from '../webhooks.constants.js';
import { OwnerTraffic } from './owner-traffic.js';
import { UnqueuedDeliveries, type UnqueuedDelivery } from './unqueued-deliveries.js';

/** A Bull job names deliveries, never carries payloads: Redis may be flushed and the database rebuilds it. */
export interface DeliveryJob {
  ids: string[];
  /** The owner of these deliveries, so that a worker can share its room fairly between owners. */
  owner?: string;
  /** Times a worker sent the job back for lack of room for its owner: each doubles the next wait. */
  returns?: number;
}

/** A delivery of `owner`, to be queued `delayMs` from now. */
export interface DelayedDelivery {
  id: string;
  owner?: string;
  delayMs: number;
}

/** Deliveries per job: big enough to amortise Bull's per-job cost, small enough to spread across workers. */
export const DELIVERIES_PER_JOB = 50;

/** Granularity of delayed jobs: deliveries due within the same 100 ms share a job. */
const DELAY_BUCKET_MS = 100;

/** The longest a caller waits for Redis before the deliveries are held in memory instead (documented). */
const ENQUEUE_PATIENCE_MS = 2_000;

/** Deliveries held in memory while Redis is away; beyond this the reconciler's stale sweep covers them. */
const MAX_HELD_DELIVERIES = 100_000;

/** Held deliveries handed to Redis per round trip once it is back. */
const HELD_PER_ROUND_TRIP = 5_000;

/** At most one warning per this long about enqueues Redis did not take while it seemed up. */
const FAILURE_WARNING_INTERVAL_MS = 30_000;

/** Deliveries per 10 s up to which an owner's jobs go ahead of heavier owners' (see `OwnerTraffic`). */
const LIGHT_OWNER_DELIVERIES = 2 * DELIVERIES_PER_JOB;

@Injectable()
export class DeliveryQueue implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookDeliveryQueue');
  private readonly held = new UnqueuedDeliveries(MAX_HELD_DELIVERIES);
  private queueingHeld: Promise<void> | null = null;
  /** Waiting for the Redis round trip in flight to finish, to share the next one. */
  private pendingHandOvers: PendingHandOver[] = [];
  private handingOver: Promise<void> | null = null;
  private lastFailureWarning = 0;
  private heldRetry: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly traffic = new OwnerTraffic(LIGHT_OWNER_DELIVERIES);

  constructor(
    @Inject(WEBHOOKS_QUEUE) readonly queue: Queue<DeliveryJob>,
    private readonly redis: RedisConnectionMonitor,
    private readonly policy: RetryPolicy,
    @InjectWebhooksRedis() private readonly connection: WebhooksRedis,
  ) {
    this.redis.onUp(() => void this.queueHeld());
  }

  /**
   * Marks this Redis as known to the module, once it is first reachable. The reconciler re-queues
   * everything when the mark is gone (Redis flushed or replaced); every instance sets it, so jobs
   * queued before the first worker started are not taken for lost. Whatever was lost before the mark
   * was set, the stale sweep finds. Not awaited: the app boots whether or not Redis is there.
   */
  onApplicationBootstrap(): void {
    void this.redis.whenUp().then(() => {
      const mark = () => this.connection.client.set(this.epochKey, String(Date.now()), 'NX');
      this.redis.command(mark, ENQUEUE_PATIENCE_MS).catch(() => undefined);
    });
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearTimeout(this.heldRetry);
  }

  get epochKey(): string {
    return this.connection.key('reconciler:epoch');
  }

  /**
   * Queues committed deliveries, each `delayMs` from now, without ever failing the caller or making
   * it wait longer than `ENQUEUE_PATIENCE_MS` (not at all while Redis is known to be down): what
   * Redis does not take is held in memory and queued once it is back. Resolves with whether Redis
   * took them now. Delays are grouped into 100 ms buckets, rounded up, so a burst of deferrals to
   * one endpoint costs one job instead of one per delivery; jitter spread over seconds survives.
   */
  enqueue(items: readonly DelayedDelivery[]): Promise<boolean> {
    const now = Date.now();
    return this.handOver(items.map(({ id, owner, delayMs }) => ({ id, owner, dueAt: now + delayMs })));
  }

  /**
   * Jobs of one owner per 100 ms delay bucket; a light owner's go ahead of the rest. Fails, without
   * waiting, while Redis is known to be down, and after `ENQUEUE_PATIENCE_MS` if it does not answer.
   */
  private async addJobs(items: readonly DelayedDelivery[]): Promise<void> {
    const buckets = new Map<string, { owner: string | undefined; delayMs: number; ids: string[] }>();
    for (const { id, owner, delayMs } of items) {
      const bucket = Math.ceil(Math.max(0, delayMs) / DELAY_BUCKET_MS) * DELAY_BUCKET_MS;
      const key = `${bucket} ${owner ?? ''}`;
      const entry = buckets.get(key) ?? { owner, delayMs: bucket, ids: [] };
      entry.ids.push(id);
      buckets.set(key, entry);
    }
    const light = new Map<string, boolean>();
    for (const { owner, ids } of buckets.values()) if (owner !== undefined) light.set(owner, this.traffic.add(owner, ids.length));
    await this.add(
      [...buckets.values()].flatMap(({ owner, delayMs, ids }) =>
        chunk(ids, DELIVERIES_PER_JOB).map((part) => ({
          data: { ids: part, owner },
          delayMs,
          light: owner !== undefined && light.get(owner)!,
        })),
      ),
    );
  }

  /**
   * A job a worker took but had no room for (its owner already fills its share while others wait):
   * back to the queue, each time a little later, so that other owners' jobs get through meanwhile.
   */
  async sendBack(job: DeliveryJob): Promise<void> {
    const returns = (job.returns ?? 0) + 1;
    const delayMs = this.policy.sendBackDelay(returns);
    try {
      await this.add([{ data: { ...job, returns }, delayMs, light: false }]);
    } catch {
      this.hold(job.ids.map((id) => ({ id, owner: job.owner, dueAt: Date.now() + delayMs })));
    }
  }

  private async add(jobs: Array<{ data: DeliveryJob; delayMs: number; light: boolean }>): Promise<void> {
    if (jobs.length === 0) return;
    const bulk = jobs.map((job) => ({ data: job.data, opts: jobOptions(job.delayMs, job.light) }));
    await this.redis.command(() => this.queue.addBulk(bulk), ENQUEUE_PATIENCE_MS);
    if (this.held.size > 0) void this.queueHeld(); // Redis answers again: what it missed need not wait for a reconnect
  }

  /**
   * One Redis round trip at a time, shared by every caller that arrived while the previous one was in
   * flight (so a thousand small commits cost a handful of `addBulk`s). Each caller's wait is bounded
   * from its own arrival, whatever is ahead of it; what is not taken in time is held in memory.
   */
  private handOver(items: UnqueuedDelivery[]): Promise<boolean> {
    if (items.length === 0) return Promise.resolve(true);
    if (this.redis.isDown) {
      this.hold(items);
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const handOver: PendingHandOver = {
        items,
        settle: (queued, reason) => {
          if (handOver.settled) return;
          handOver.settled = true;
          clearTimeout(timer);
          if (!queued) this.hold(items);
          if (reason) this.warnFailure(`Redis did not take ${items.length} deliveries (${reason}); they are queued again once it answers`);
          resolve(queued);
        },
        settled: false,
      };
      const timer = setTimeout(() => handOver.settle(false, `no answer within ${ENQUEUE_PATIENCE_MS} ms`), ENQUEUE_PATIENCE_MS);
      this.pendingHandOvers.push(handOver);
      this.handingOver ??= this.handOverPending().finally(() => {
        this.handingOver = null;
      });
    });
  }

  private async handOverPending(): Promise<void> {
    while (this.pendingHandOvers.length > 0) {
      const batch = this.pendingHandOvers.splice(0).filter((handOver) => !handOver.settled);
      if (batch.length === 0) continue;
      if (this.redis.isDown) {
        batch.forEach((handOver) => handOver.settle(false));
        continue;
      }
      const now = Date.now();
      try {
        await this.addJobs(
          batch.flatMap((handOver) => handOver.items.map(({ id, owner, dueAt }) => ({ id, owner, delayMs: dueAt - now }))),
        );
        batch.forEach((handOver) => handOver.settle(true));
      } catch (error) {
        const reason = this.redis.isDown ? undefined : (error as Error).message;
        batch.forEach((handOver) => handOver.settle(false, reason));
      }
    }
  }

  private hold(items: UnqueuedDelivery[]): void {
    if (items.length === 0) return;
    const refused = this.held.hold(items);
    this.retryHeldLater();
    if (refused > 0) {
      this.warnFailure(
        `${refused} deliveries could not be queued and ${this.held.capacity} are already held in memory; ` +
          'the reconciler will queue them from the database once Redis is back',
      );
    }
  }

  /** Hands what was held to Redis, oldest first, until it is all queued or Redis fails again. */
  private queueHeld(): Promise<void> {
    this.queueingHeld ??= this.queueAllHeld().finally(() => {
      this.queueingHeld = null;
    });
    return this.queueingHeld;
  }

  private async queueAllHeld(): Promise<void> {
    let queued = 0;
    while (this.held.size > 0 && !this.redis.isDown && !this.closed) {
      const portion = this.held.take(HELD_PER_ROUND_TRIP);
      const now = Date.now();
      try {
        await this.addJobs(portion.map(({ id, owner, dueAt }) => ({ id, owner, delayMs: dueAt - now })));
      } catch {
        this.held.hold(portion);
        this.retryHeldLater();
        break;
      }
      queued += portion.length;
    }
    if (queued > 0) this.logger.log(`Queued ${queued} deliveries held while Redis was unreachable`);
  }

  /**
   * Redis seems up but did not take them (slow, or a connection not yet seen as dead): try again
   * later. While it is known to be down, its return triggers the next try instead.
   */
  private retryHeldLater(): void {
    if (this.closed || this.heldRetry || this.redis.isDown) return;
    this.heldRetry = setTimeout(() => {
      this.heldRetry = undefined;
      void this.queueHeld();
    }, this.policy.heldRetryMs);
    this.heldRetry.unref();
  }

  private warnFailure(message: string): void {
    if (Date.now() - this.lastFailureWarning < FAILURE_WARNING_INTERVAL_MS) return;
    this.lastFailureWarning = Date.now();
    this.logger.warn(message);
  }
}

/** One caller's committed deliveries, waiting for a Redis round trip. */
interface PendingHandOver {
  items: UnqueuedDelivery[];
  /** Once: taken by Redis, or held in memory (with why, when that is worth a warning). */
  settle(queued: boolean, reason?: string): void;
  settled: boolean;
}

function chunk<T>(values: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < values.length; i += size) parts.push(values.slice(i, i + size));
  return parts;
}

function jobOptions(delayMs: number, light: boolean) {
  // Delivery state lives in the database; finished jobs would only cost Redis memory. Bull puts a job
  // with a priority ahead of every job without one, so only light owners' jobs carry one.
  return {
    delay: Math.max(0, Math.round(delayMs)),
    removeOnComplete: true,
    removeOnFail: true,
    attempts: 1,
    ...(light ? { priority: 1 } : {}),
  };
}
