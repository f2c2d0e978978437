import type { WebhookDeliveryEntity } from '../store/entities/webhook-delivery.entity.js';
import type { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import type { ClaimedDelivery } from '../store/delivery-store.js';
import type { OwnedDeliveries } from './owned-deliveries.js';

/** A grant of room in this process's worker, under one lease. */
export interface LocalLease {
  token: string;
  until: number;
  count: number;
}

/** What the hand-off needs of the worker in its own process. */
export interface LocalWorker {
  /** Room for up to `count` of `owner`'s deliveries, counted as waiting until each starts; null when there is none. */
  reserve(owner: string, count: number): LocalLease | null;
  /** Gives back room reserved for deliveries that will not come. */
  release(owner: string, count: number): void;
  /** Starts deliveries written under a lease from `reserve` (their room is already counted). */
  adopt(owner: string, items: ClaimedDelivery[]): void;
  /**
   * Claims and starts, now, as many of these committed deliveries as there is room for, and
   * resolves with the rest (all of them if the claim fails), for the queue.
   */
  claimCommitted(deliveries: readonly OwnedDeliveries[]): Promise<OwnedDeliveries[]>;
}

/**
 * One emit's deliveries leased, as they are written, to the worker in the emitting process: they
 * skip the Redis round trip, the job pick-up and the claim, which are most of emit-to-receiver
 * latency on a busy host, and the claim's UPDATE is one database write less per delivery. Only as
 * many as that worker has room for are taken; the rest go through Redis to whichever worker is free.
 * Should this process die before sending them, their lease expires and the reconciler queues them.
 */
export class LocalHandoff {
  /** Leased deliveries by owner, each owner's counted in its own share of the worker's room. */
  private leased = new Map<string, ClaimedDelivery[]>();

  constructor(private readonly worker: Pick<LocalWorker, 'reserve' | 'release' | 'adopt'>) {}

  /**
   * Marks as many pending deliveries as the worker has room for (per owner) with a lease of its own,
   * before they are inserted. A write that is tried again calls this again, and the earlier grant is
   * given back.
   */
  lease(
    deliveries: readonly WebhookDeliveryEntity[],
    event: (eventId: string) => { body: string; traceContext?: string | null },
    endpoint: (endpointId: string) => WebhookEndpointEntity,
  ): void {
    this.cancel();
    const byOwner = new Map<string, WebhookDeliveryEntity[]>();
    for (const delivery of deliveries) {
      if (delivery.status !== 'pending') continue;
      const owner = endpoint(delivery.endpointId).ownerId;
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), delivery]);
    }
    for (const [owner, pending] of byOwner) {
      const grant = this.worker.reserve(owner, pending.length);
      if (!grant) continue;
      this.leased.set(
        owner,
        pending.slice(0, grant.count).map((delivery) => {
          delivery.leaseToken = grant.token;
          delivery.leaseUntil = grant.until;
          const { body, traceContext } = event(delivery.eventId);
          return {
            delivery: {
              id: delivery.id,
              eventId: delivery.eventId,
              eventType: delivery.eventType,
              endpointId: delivery.endpointId,
              attemptCount: delivery.attemptCount,
              nextAttemptAt: delivery.nextAttemptAt,
              lastStatusCode: delivery.lastStatusCode,
              lastError: delivery.lastError,
              leaseToken: grant.token,
              leaseUntil: grant.until,
            },
            body,
            endpoint: endpoint(delivery.endpointId),
            traceContext,
          };
        }),
      );
    }
  }

  /** The write committed: the leased deliveries start now. */
  start(): void {
    const leased = this.leased;
    this.leased = new Map();
    for (const [owner, items] of leased) this.worker.adopt(owner, items);
  }

  /** The write failed: nothing was stored, the room goes back. */
  cancel(): void {
    for (const [owner, items] of this.leased) this.worker.release(owner, items.length);
    this.leased = new Map();
  }
}
