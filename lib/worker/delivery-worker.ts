import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bull';
import { setMaxListeners } from 'node:events';
import { withinDeadline } from '../utils/deadline.js';
import { RedisConnectionMonitor } from '../redis/redis-connection-monitor.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { RetryPolicy } from '../config/retry-policy.js';
import { DeliveryDispatcher } from '../dispatch/delivery-dispatcher.js';
import { DeliveryQueue, type DeliveryJob } from '../dispatch/delivery-queue.js';
import type { OwnedDeliveries } from '../dispatch/owned-deliveries.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeliveryStore, newLeaseToken, type ClaimedDelivery } from '../store/delivery-store.js';
import { DeliveryAttempt, type EndpointResponse } from './delivery-attempt.js';
import { EndpointGate, INITIAL_IN_FLIGHT } from './endpoint-gate.js';
import { FairSlots } from './fair-slots.js';
import { WaitingRoom } from './waiting-room.js';
import type { LocalLease, LocalWorker } from '../dispatch/local-handoff.js';
import { WebhookSender } from './webhook-sender.js';

/** Bull jobs taken at once; each only claims its batch and hands it on, so a few suffice. */
const JOBS_AT_ONCE = 4;
/** How long shutdown waits for Redis to answer the consumer connection's naming before closing it anyway. */
const CONSUMER_NAMED_PATIENCE_MS = 2_000;

/**
 * Consumes delivery jobs. A job only claims its deliveries and hands them over: from then on the
 * database lease, not Redis, guards each delivery, so a slow receiver never pins a Bull job, and a
 * worker that dies mid-send leaves a lease the reconciler sees expire. Claimed deliveries wait in
 * memory for their endpoint and for a free slot; new jobs are taken only while few are waiting.
 * Deliveries emitted in this same process may arrive already leased instead (`LocalHandoff`), within
 * the same bound.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown, LocalWorker {
  private readonly logger = new Logger('WebhookDeliveryWorker');
  private readonly slots: FairSlots;
  private readonly gate: EndpointGate;
  private readonly inFlight = new Set<Promise<void>>();
  /** Claimed, not yet started nor deferred, per owner. */
  private readonly room: WaitingRoom;
  private stopping = false;
  /** Claimed deliveries between the claim and their start (or hand-back). */
  private readonly dispatching = new Set<Promise<void>>();
  /** Settles once Redis has answered Bull's naming of the consumer connection (see onApplicationBootstrap). */
  private consumerNamed: Promise<void> = Promise.resolve();
  private started = false;
  /** Aborts requests still in flight when the shutdown grace runs out. */
  private readonly shutdown = new AbortController();

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly queue: DeliveryQueue,
    private readonly store: DeliveryStore,
    private readonly attempts: DeliveryAttempt,
    private readonly sender: WebhookSender,
    private readonly recorder: DeliveryRecorder,
    private readonly redis: RedisConnectionMonitor,
    dispatcher: DeliveryDispatcher,
    private readonly policy: RetryPolicy,
  ) {
    dispatcher.attachLocalWorker(this);
    this.slots = new FairSlots(options.delivery.concurrency);
    this.room = new WaitingRoom(2 * options.delivery.concurrency);
    setMaxListeners(0, this.shutdown.signal); // one listener per request in flight, by design
    this.gate = new EndpointGate({
      ...policy.circuit,
      maxInFlight: options.delivery.perEndpointConcurrency,
      initialInFlight: INITIAL_IN_FLIGHT,
      maxWaitMs: policy.gateWaitMs,
      busyDeferMs: policy.busyDeferMs,
      stuckAfterMs: policy.stuckAfterMs,
      requestTimeoutMs: options.delivery.timeoutMs,
    });
  }

  /** Taking work: booted, and not shutting down. */
  get running(): boolean {
    return this.started && !this.stopping;
  }

  /** Attempts under way in this process. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** A lease outlives the longest attempt, with room for waiting on a free slot. */
  get leaseMs(): number {
    return 2 * this.options.delivery.timeoutMs + 5_000;
  }

  onApplicationBootstrap(): void {
    this.started = true;
    // Bull gives up on a consumer whose set-up commands fail for minutes, so it starts once Redis answers.
    void this.redis.whenUp().then(() => {
      if (this.stopping) return;
      const queue = this.queue.queue;
      queue
        .process(JOBS_AT_ONCE, (job: Job<DeliveryJob>) => this.run(job.data ?? { ids: [] }))
        .catch((error) => this.logger.error(`Delivery worker stopped: ${(error as Error).message}`));
      // Bull names its blocking connection (CLIENT SETNAME) without handling a failure of that command,
      // so closing the connection before Redis answers is an unhandled rejection. A PING sent after it
      // on the same connection settles after it: shutdown waits for the PING.
      this.consumerNamed = queue
        .isReady()
        .then(() => new Promise((resolve) => setImmediate(resolve)))
        .then(() => (queue as unknown as { bclient: { ping(): Promise<string> } }).bclient.ping())
        .then(
          () => undefined,
          () => undefined,
        );
    });
  }

  /**
   * One queue job: `ids` of `owner`'s committed deliveries. Claimed once the owner has room here; a
   * job whose owner already fills its share of the room while other owners wait goes back to the
   * queue, so one owner's backlog never holds the worker's job slots.
   */
  async run(job: DeliveryJob): Promise<void> {
    if (!Array.isArray(job.ids)) return;
    const ids = job.ids.filter((id) => typeof id === 'string');
    const owner = typeof job.owner === 'string' ? job.owner : undefined;
    if (!(await this.room.admit(owner ?? '', ids.length, this.policy.roomPatienceMs))) {
      // Taken between shutdown and the queue closing: put it back for the other workers.
      if (this.stopping) await this.queue.enqueue(ids.map((id) => ({ id, owner, delayMs: 0 })));
      else await this.queue.sendBack({ ...job, ids, owner });
      return;
    }
    try {
      await this.claimAndStart(new Map(ids.map((id) => [id, owner ?? ''])));
    } catch (error) {
      this.logger.warn(`Could not claim deliveries (${(error as Error).message}); retrying in ${this.policy.claimRetryMs} ms`);
      await this.queue.enqueue(ids.map((id) => ({ id, owner, delayMs: this.policy.claimRetryMs })));
    }
  }

  /**
   * Claims and starts, here and now, as many of these committed deliveries as each owner has room
   * for here, and returns the rest (all of them if the claim fails) for the queue. For deliveries
   * committed in this process outside the hand-off's own write (the caller's transaction, a manual
   * retry), it saves the Redis job and its pick-up, though not the claim.
   */
  async claimCommitted(deliveries: readonly OwnedDeliveries[]): Promise<OwnedDeliveries[]> {
    const taken = new Map<string, string>();
    const rest: OwnedDeliveries[] = [];
    for (const { owner, ids } of deliveries) {
      const room = this.roomFor(owner, ids.length);
      for (const id of ids.slice(0, room)) taken.set(id, owner);
      if (room < ids.length) rest.push({ owner, ids: ids.slice(room) });
    }
    if (taken.size === 0) return rest;
    try {
      await this.claimAndStart(taken);
      return rest;
    } catch (error) {
      this.logger.warn(`Could not claim deliveries just committed (${(error as Error).message}); queueing them for any worker`);
      return [...deliveries];
    }
  }

  /**
   * Claims the deliveries (id → owner), already counted in their owners' rooms, and starts what it got;
   * room is given back for the rest.
   */
  private async claimAndStart(owners: ReadonlyMap<string, string>): Promise<void> {
    let claimed: ClaimedDelivery[];
    try {
      claimed = await this.store.claim([...owners.keys()], this.leaseMs);
    } catch (error) {
      for (const owner of owners.values()) this.room.leave(owner);
      throw error;
    }
    const unclaimed = new Map(owners);
    for (const item of claimed) {
      unclaimed.delete(item.delivery.id);
      this.start(item, owners.get(item.delivery.id)!);
    }
    for (const owner of unclaimed.values()) this.room.leave(owner);
  }

  reserve(owner: string, count: number): LocalLease | null {
    const room = this.roomFor(owner, count);
    if (room === 0) return null;
    return { token: newLeaseToken(), until: Math.trunc(Date.now() + this.leaseMs), count: room };
  }

  /** How many of `count` deliveries taken in this process (not from a job) fit now; none before start-up or once stopping. */
  private roomFor(owner: string, count: number): number {
    return this.started && !this.stopping ? this.room.grant(owner, count) : 0;
  }

  release(owner: string, count: number): void {
    this.room.leave(owner, count);
  }

  /** Starts deliveries this worker holds the lease on; each was counted in its owner's room when it was taken. */
  adopt(owner: string, items: ClaimedDelivery[]): void {
    for (const item of items) this.start(item, owner);
  }

  private start(item: ClaimedDelivery, owner: string): void {
    const dispatching: Promise<void> = this.dispatch(item)
      .catch((error) => this.logger.error(`Could not dispatch delivery ${item.delivery.id}: ${(error as Error).message}`))
      .finally(() => {
        this.room.leave(owner);
        this.dispatching.delete(dispatching);
      });
    this.dispatching.add(dispatching);
  }

  /** Resolves once the delivery has started, or was put off because its endpoint is busy or backing off. */
  private async dispatch(item: ClaimedDelivery): Promise<void> {
    const admission = await this.gate.enter(item.delivery.endpointId, item.delivery.nextAttemptAt ?? Date.now());
    if (!admission.admitted) {
      if (admission.failedProbe) this.attempts.recordUnsent(item, admission.failedProbe);
      else this.attempts.defer(item, admission.retryAt);
      await this.recorder.ready(); // like a finished delivery, it waits while the recorder is behind
      return;
    }
    const { ticket } = admission;
    const owner = item.endpoint?.ownerId ?? '';
    await this.slots.acquire(owner);
    const leaseLeft = (item.delivery.leaseUntil ?? 0) - Date.now();
    if (this.stopping || leaseLeft < this.options.delivery.timeoutMs) {
      // Shutting down, or too late to finish under this lease: hand it back, due now, for any worker.
      this.slots.release(owner);
      this.gate.leave(ticket, 'none');
      this.attempts.defer(item, Date.now());
      await this.recorder.ready();
      return;
    }
    this.gate.begin(ticket);
    const running: Promise<void> = this.attempts
      .process(item, this.shutdown.signal)
      .catch((error): EndpointResponse => {
        this.logger.error(`Delivery ${item.delivery.id} failed unexpectedly: ${(error as Error).message}`);
        return { response: 'none', error: null };
      })
      .then(async ({ response, error }) => {
        this.gate.leave(ticket, response, error ?? undefined);
        await this.recorder.ready(); // the slot stays taken while the database is behind: bounded memory
      })
      .finally(() => {
        this.slots.release(owner);
        this.inFlight.delete(running);
      });
    this.inFlight.add(running);
  }

  /**
   * Stops taking work (jobs still handed over until @nestjs/bull closes the queue go back to Redis),
   * lets in-flight deliveries finish for up to `delivery.shutdownGraceMs`.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.room.close();
    await withinDeadline(this.consumerNamed, CONSUMER_NAMED_PATIENCE_MS, undefined);
    // No local pause: Bull's reconnects its blocking client for that, racing the queue's own close.
    await withinDeadline(Promise.allSettled([...this.inFlight]), this.options.delivery.shutdownGraceMs, undefined);
    if (this.inFlight.size > 0) {
      this.logger.warn(
        `${this.inFlight.size} deliveries still in flight after ${this.options.delivery.shutdownGraceMs} ms; leaving them to lease expiry`,
      );
      this.shutdown.abort();
      await withinDeadline(Promise.allSettled([...this.inFlight]), 1_000, undefined);
    }
    // Deliveries that were waiting for a slot are handed back as the slots free up: their records must
    // reach the recorder before it drains, and Redis before the queue's connection closes.
    await withinDeadline(Promise.allSettled([...this.dispatching]), 1_000, undefined);
    await this.recorder.drain();
    await this.sender.close().catch(() => undefined);
  }
}
