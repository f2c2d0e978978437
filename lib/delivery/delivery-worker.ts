import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bull';
import type { ResolvedWebhooksOptions } from '../options/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { DeliveryQueue, type DeliveryJob } from './delivery-queue.js';
import { DeliveryStore } from './delivery-store.js';
import { DeliveryProcessor } from './delivery.processor.js';
import { WebhookSender } from './webhook-sender.js';

/** Bull jobs taken at once; each only claims its batch and hands it to the limiter, so a few suffice. */
const JOBS_AT_ONCE = 4;

/** How long shutdown waits for in-flight deliveries before leaving them to lease expiry. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Consumes delivery jobs. A job is finished once every delivery in it has *started*: from then on the
 * database lease, not Redis, guards the delivery, so a slow receiver never pins a Bull job and a
 * worker that dies mid-send leaves a lease the reconciler can see expire.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDeliveryWorker');
  private readonly limiter: ConcurrencyLimiter;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly queue: DeliveryQueue,
    private readonly store: DeliveryStore,
    private readonly processor: DeliveryProcessor,
    private readonly sender: WebhookSender,
  ) {
    this.limiter = new ConcurrencyLimiter(options.delivery.concurrency);
  }

  /** A lease outlives the longest attempt, with room for waiting on a free slot. */
  get leaseMs(): number {
    return 2 * this.options.delivery.timeoutMs + 30_000;
  }

  onApplicationBootstrap(): void {
    this.queue.queue
      .process(JOBS_AT_ONCE, (job: Job<DeliveryJob>) => this.run(job.data?.ids ?? []))
      .catch((error) => this.logger.error(`Delivery worker stopped: ${(error as Error).message}`));
  }

  async run(ids: string[]): Promise<void> {
    if (this.stopping || !Array.isArray(ids)) return;
    const claimed = await this.store.claim(ids.filter((id) => typeof id === 'string'), this.leaseMs);
    for (const item of claimed) {
      await this.limiter.acquire();
      const expiresIn = (item.delivery.leaseUntil ?? 0) - Date.now();
      if (this.stopping || expiresIn < this.options.delivery.timeoutMs) {
        // Too late to finish under this lease, or shutting down: hand it back for any worker to take.
        this.limiter.release();
        await this.store.release(item.delivery).catch(() => undefined);
        await this.queue.enqueueCommitted([item.delivery.id]);
        continue;
      }
      const running: Promise<void> = this.processor
        .process(item)
        .catch((error) => this.logger.error(`Delivery ${item.delivery.id} failed unexpectedly: ${(error as Error).message}`))
        .finally(() => {
          this.limiter.release();
          this.inFlight.delete(running);
        });
      this.inFlight.add(running);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.queue.queue.pause(true, true).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
    await this.sender.close().catch(() => undefined);
  }
}
