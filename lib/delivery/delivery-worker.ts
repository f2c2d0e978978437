import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bull';
import type { ResolvedWebhooksOptions } from '../options/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { DeliveryQueue, type DeliveryJob } from './delivery-queue.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeliveryStore, type ClaimedDelivery } from './delivery-store.js';
import { DeliveryProcessor } from './delivery.processor.js';
import { DEFAULT_GATE_LIMITS, EndpointGate } from './endpoint-gate.js';
import { WebhookSender } from './webhook-sender.js';

/** Bull jobs taken at once; each only claims its batch and hands it on, so a few suffice. */
const JOBS_AT_ONCE = 4;

/** When the database cannot be reached, a job's deliveries come back after this long. */
const DATABASE_RETRY_MS = 5_000;

/**
 * Consumes delivery jobs. A job is finished once every delivery in it has *started* (or was deferred):
 * from then on the database lease, not Redis, guards the delivery, so a slow receiver never pins a
 * Bull job, and a worker that dies mid-send leaves a lease the reconciler sees expire.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDeliveryWorker');
  private readonly limiter: ConcurrencyLimiter;
  private readonly gate: EndpointGate;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly queue: DeliveryQueue,
    private readonly store: DeliveryStore,
    private readonly processor: DeliveryProcessor,
    private readonly sender: WebhookSender,
    private readonly recorder: DeliveryRecorder,
  ) {
    this.limiter = new ConcurrencyLimiter(options.delivery.concurrency);
    this.gate = new EndpointGate({ ...DEFAULT_GATE_LIMITS, maxInFlight: options.delivery.perEndpointConcurrency });
  }

  /** A lease outlives the longest attempt, with room for waiting on a free slot. */
  get leaseMs(): number {
    return 2 * this.options.delivery.timeoutMs + 5_000;
  }

  onApplicationBootstrap(): void {
    this.queue.queue
      .process(JOBS_AT_ONCE, (job: Job<DeliveryJob>) => this.run(job.data?.ids ?? []))
      .catch((error) => this.logger.error(`Delivery worker stopped: ${(error as Error).message}`));
  }

  async run(ids: string[]): Promise<void> {
    if (this.stopping || !Array.isArray(ids)) return;
    const wanted = ids.filter((id) => typeof id === 'string');
    let claimed: ClaimedDelivery[];
    try {
      claimed = await this.store.claim(wanted, this.leaseMs);
    } catch (error) {
      this.logger.warn(`Could not claim deliveries (${(error as Error).message}); retrying in ${DATABASE_RETRY_MS} ms`);
      await this.queue.enqueueCommitted(wanted, DATABASE_RETRY_MS);
      return;
    }
    const deferred = new Map<string, ClaimedDelivery[]>();
    await Promise.all(claimed.map((item) => this.dispatch(item, deferred)));
    await this.deferBackingOff(deferred);
  }

  /** Resolves once the delivery has started, or was set aside because its endpoint is busy or backing off. */
  private async dispatch(item: ClaimedDelivery, deferred: Map<string, ClaimedDelivery[]>): Promise<void> {
    const endpointId = item.delivery.endpointId;
    if (!(await this.gate.enter(endpointId))) {
      deferred.set(endpointId, [...(deferred.get(endpointId) ?? []), item]);
      return;
    }
    await this.limiter.acquire();
    const leaseLeft = (item.delivery.leaseUntil ?? 0) - Date.now();
    if (this.stopping || leaseLeft < this.options.delivery.timeoutMs) {
      // Shutting down, or too late to finish under this lease: hand it back for any worker to take.
      this.limiter.release();
      this.gate.leave(endpointId, 'none');
      await this.store.release(item.delivery).catch(() => undefined);
      await this.queue.enqueueCommitted([item.delivery.id]);
      return;
    }
    const running: Promise<void> = this.processor
      .process(item)
      .catch((error) => {
        this.logger.error(`Delivery ${item.delivery.id} failed unexpectedly: ${(error as Error).message}`);
        return 'none' as const;
      })
      .then((response) => this.gate.leave(endpointId, response))
      .finally(() => {
        this.limiter.release();
        this.inFlight.delete(running);
      });
    this.inFlight.add(running);
  }

  private async deferBackingOff(deferred: Map<string, ClaimedDelivery[]>): Promise<void> {
    for (const [endpointId, items] of deferred) {
      const until = this.gate.retryAt(endpointId) + Math.round(Math.random() * 250);
      const deliveries = items.map((item) => item.delivery);
      try {
        await this.store.defer(deliveries, until);
      } catch (error) {
        this.logger.warn(`Could not defer ${deliveries.length} deliveries (${(error as Error).message}); leases will expire`);
        continue;
      }
      await this.queue.enqueueCommitted(deliveries.map((d) => d.id), until - Date.now());
    }
  }

  /** Stops taking jobs, lets in-flight deliveries finish for up to `delivery.shutdownGraceMs`. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.queue.queue.pause(true, true).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.delivery.shutdownGraceMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
    if (this.inFlight.size > 0) {
      this.logger.warn(`${this.inFlight.size} deliveries still in flight after ${this.options.delivery.shutdownGraceMs} ms; aborting them`);
      await this.sender.destroy();
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    }
    await this.recorder.drain();
    await this.sender.close().catch(() => undefined);
  }
}
