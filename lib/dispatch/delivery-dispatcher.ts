import { Injectable } from '@nestjs/common';
import { GroupCommit, type GroupMember } from '../utils/group-commit.js';
import { DeliveryQueue } from './delivery-queue.js';
import { LocalHandoff, type LocalWorker } from './local-handoff.js';
import { groupByOwner, type OwnedDeliveries } from './owned-deliveries.js';

/** Committed deliveries whose local claim is coalesced into one statement. */
const MAX_IDS_PER_CLAIM = 1_000;

/**
 * Where committed deliveries go: the one place that chooses between the worker in this process
 * (when there is one and it has room: no Redis job, no pick-up) and the Redis queue (any worker).
 * Emitting code hands deliveries here and never meets the worker; the worker, if this process runs
 * one, attaches itself.
 */
@Injectable()
export class DeliveryDispatcher {
  private local: LocalWorker | null = null;
  /** Hand-overs arriving while a local claim is in flight share the next claim. */
  private readonly claims = new GroupCommit<OwnedDeliveries[]>((group) => this.claimLocally(group), {
    maxWeight: MAX_IDS_PER_CLAIM,
    weight: (deliveries) => deliveries.reduce((sum, { ids }) => sum + ids.length, 0),
  });

  constructor(private readonly queue: DeliveryQueue) {}

  /** The worker in this process offers to take deliveries without going through Redis. */
  attachLocalWorker(worker: LocalWorker): void {
    this.local = worker;
  }

  /** For one write: leases pending rows to the local worker as they are written (undefined without one). */
  handoff(): LocalHandoff | undefined {
    return this.local ? new LocalHandoff(this.local) : undefined;
  }

  /**
   * Committed deliveries: the local worker claims what it has room for, the rest are queued. Never
   * throws; resolves once they are all handed over (a Redis hand-over is bounded: see DeliveryQueue).
   */
  dispatch(deliveries: readonly OwnedDeliveries[]): Promise<void> {
    const nonEmpty = deliveries.filter(({ ids }) => ids.length > 0);
    if (nonEmpty.length === 0) return Promise.resolve();
    if (!this.local) return this.queue.enqueue(toQueue(nonEmpty, 0)).then(() => undefined);
    return this.claims.submit(nonEmpty);
  }

  /** One claim for the whole group; each member is settled once its rest is queued, without holding up the next claim. */
  private async claimLocally(group: Array<GroupMember<OwnedDeliveries[], void>>): Promise<void> {
    const all = groupByOwner(group.flatMap(({ item }) => item.flatMap(({ owner, ids }) => ids.map((id) => ({ owner, id })))));
    const rest = await this.local!.claimCommitted(all).catch(() => all);
    void this.queue.enqueue(toQueue(rest, 0)).finally(() => group.forEach((member) => member.resolve()));
  }
}

function toQueue(deliveries: readonly OwnedDeliveries[], delayMs: number) {
  return deliveries.flatMap(({ owner, ids }) => ids.map((id) => ({ id, owner, delayMs })));
}
