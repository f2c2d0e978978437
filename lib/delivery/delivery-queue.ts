import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { withinDeadline } from '../coordination/deadline.js';
import { WEBHOOKS_QUEUE } from '../webhooks.constants.js';

/** A Bull job names deliveries, never carries payloads: Redis may be flushed and the database rebuilds it. */
export interface DeliveryJob {
  ids: string[];
}

/** Deliveries per job: big enough to amortise Bull's per-job cost, small enough to spread across workers. */
export const DELIVERIES_PER_JOB = 50;

/** Granularity of delayed jobs: deliveries due within the same 100 ms share a job. */
const DELAY_BUCKET_MS = 100;

/** How long a caller waits for Redis before leaving the work to the reconciler. */
const ENQUEUE_PATIENCE_MS = 2_000;

@Injectable()
export class DeliveryQueue implements OnApplicationBootstrap {
  private readonly logger = new Logger('WebhookDeliveryQueue');

  constructor(@Inject(WEBHOOKS_QUEUE) readonly queue: Queue<DeliveryJob>) {}

  /**
   * Marks this Redis as known to the module. The reconciler re-queues everything when the mark is
   * gone (Redis flushed or replaced); every instance sets it, so jobs queued before the first worker
   * started are not taken for lost. Whatever was lost before the mark was set, the stale sweep finds.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.queue.client.set(this.epochKey, String(Date.now()), 'NX').catch(() => undefined);
  }

  get epochKey(): string {
    return this.queue.toKey('reconciler:epoch');
  }

  async enqueue(ids: readonly string[], delayMs = 0): Promise<void> {
    await this.add(chunk(ids, DELIVERIES_PER_JOB).map((part) => ({ ids: part, delayMs })));
  }

  /**
   * Enqueue after the rows are committed, without ever failing or stalling the caller: if Redis is
   * slow or down, the rows stay pending in the database and the reconciler queues them later.
   */
  enqueueCommitted(ids: readonly string[], delayMs = 0): Promise<boolean> {
    return this.patiently(ids.length, () => this.enqueue(ids, delayMs));
  }

  /**
   * Like `enqueueCommitted` for deliveries that each have their own delay (retries, deferrals).
   * Delays are grouped into 100 ms buckets, rounded up, so a burst of deferrals to one endpoint
   * costs one job instead of one per delivery; jitter spread over seconds survives the rounding.
   */
  enqueueEachCommitted(items: ReadonlyArray<{ id: string; delayMs: number }>): Promise<boolean> {
    return this.patiently(items.length, () => this.enqueueEach(items));
  }

  /** One job per 100 ms delay bucket (see `enqueueEachCommitted`); fails if Redis does. */
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
    await this.queue.addBulk(jobs.map((job) => ({ data: { ids: job.ids }, opts: jobOptions(job.delayMs) })));
  }

  private async patiently(count: number, enqueue: () => Promise<void>): Promise<boolean> {
    if (count === 0) return true;
    try {
      const outcome = await withinDeadline(enqueue().then(() => 'queued' as const), ENQUEUE_PATIENCE_MS, 'timeout' as const);
      if (outcome === 'timeout') this.logger.warn(`Redis did not take ${count} deliveries in ${ENQUEUE_PATIENCE_MS} ms; the reconciler will queue them`);
      return outcome === 'queued';
    } catch (error) {
      this.logger.warn(`Could not queue ${count} deliveries (${(error as Error).message}); the reconciler will queue them`);
      return false;
    }
  }
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
