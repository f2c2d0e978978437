import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bull';
import { RedisConnectionMonitor } from '../coordination/redis-connection-monitor.js';
import { WEBHOOKS_QUEUE } from '../webhooks.constants.js';
import { UnqueuedDeliveries, type UnqueuedDelivery } from './unqueued-deliveries.js';

/** A Bull job names deliveries, never carries payloads: Redis may be flushed and the database rebuilds it. */
export interface DeliveryJob {
  ids: string[];
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

/** When Redis seems up but did not take held deliveries, the next try comes this much later. */
const HELD_RETRY_MS = 5_000;

/** At most one warning per this long about enqueues Redis did not take while it seemed up. */
const FAILURE_WARNING_INTERVAL_MS = 30_000;

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

  constructor(
    @Inject(WEBHOOKS_QUEUE) readonly queue: Queue<DeliveryJob>,
    private readonly redis: RedisConnectionMonitor,
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
      const mark = () => this.queue.client.set(this.epochKey, String(Date.now()), 'NX');
      this.redis.command(mark, ENQUEUE_PATIENCE_MS).catch(() => undefined);
    });
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearTimeout(this.heldRetry);
  }

  get epochKey(): string {
    return this.queue.toKey('reconciler:epoch');
  }

  /** Fails at once while Redis is known to be down, and after `ENQUEUE_PATIENCE_MS` if it does not answer. */
  async enqueue(ids: readonly string[], delayMs = 0): Promise<void> {
    await this.add(chunk(ids, DELIVERIES_PER_JOB).map((part) => ({ ids: part, delayMs })));
  }

  /**
   * Enqueue after the rows are committed, without ever failing the caller or making it wait longer
   * than `ENQUEUE_PATIENCE_MS` (not at all while Redis is known to be down): what Redis does not take
   * is held in memory and queued once it is back. Resolves with whether Redis took them now.
   */
  enqueueCommitted(ids: readonly string[], delayMs = 0): Promise<boolean> {
    const dueAt = Date.now() + delayMs;
    return this.handOver(ids.map((id) => ({ id, dueAt })));
  }

  /**
   * Like `enqueueCommitted` for deliveries that each have their own delay (retries, deferrals).
   * Delays are grouped into 100 ms buckets, rounded up, so a burst of deferrals to one endpoint
   * costs one job instead of one per delivery; jitter spread over seconds survives the rounding.
   */
  enqueueEachCommitted(items: ReadonlyArray<{ id: string; delayMs: number }>): Promise<boolean> {
    const now = Date.now();
    return this.handOver(items.map(({ id, delayMs }) => ({ id, dueAt: now + delayMs })));
  }

  /** One job per 100 ms delay bucket (see `enqueueEachCommitted`); fails like `enqueue`. */
  async enqueueEach(items: ReadonlyArray<{ id: string; delayMs: number }>): Promise<void> {
    const buckets = new Map<number, string[]>();
    for (const { id, delayMs } of items) {
      const bucket = Math.ceil(Math.max(0, delayMs) / DELAY_BUCKET_MS) * DELAY_BUCKET_MS;
      const ids = buckets.get(bucket) ?? [];
      ids.push(id);
      buckets.set(bucket, ids);
    }
    await this.add([...buckets].flatMap(([delayMs, ids]) => chunk(ids, DELIVERIES_PER_JOB).map((part) => ({ ids: part, delayMs }))));
  }

  private async add(jobs: Array<{ ids: string[]; delayMs: number }>): Promise<void> {
    if (jobs.length === 0) return;
    const bulk = jobs.map((job) => ({ data: { ids: job.ids }, opts: jobOptions(job.delayMs) }));
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
        await this.enqueueEach(batch.flatMap((handOver) => handOver.items.map(({ id, dueAt }) => ({ id, delayMs: dueAt - now }))));
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
        await this.enqueueEach(portion.map(({ id, dueAt }) => ({ id, delayMs: dueAt - now })));
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
    }, HELD_RETRY_MS);
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

function jobOptions(delayMs: number) {
  // Delivery state lives in the database; finished jobs would only cost Redis memory.
  return { delay: Math.max(0, Math.round(delayMs)), removeOnComplete: true, removeOnFail: true, attempts: 1 };
}
