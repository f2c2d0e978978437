import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { DeliveryQueue } from '../dispatch/delivery-queue.js';
import { DeliveryWorker } from '../worker/delivery-worker.js';
import { groupByOwner, type OwnedDeliveries } from '../dispatch/owned-deliveries.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';

interface HeldDeliveries {
  depth: number;
  deliveries: OwnedDeliveries[];
}

/**
 * Holds deliveries written inside a caller's transaction until that transaction commits, so nothing
 * reaches Redis (or a worker) for rows a rollback would erase. Savepoints are tracked by depth: rolling
 * back an inner block drops only what it wrote. At commit, a worker in this process takes what it has
 * room for and the rest is queued.
 */
@Injectable()
export class TransactionOutbox implements EntitySubscriberInterface, OnModuleInit {
  private readonly held = new WeakMap<QueryRunner, HeldDeliveries[]>();
  /** Committed, not yet handed over, each with the caller waiting for it. */
  private committed: Array<{ deliveries: OwnedDeliveries[]; done: () => void }> = [];
  private handing: Promise<void> | null = null;

  constructor(
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly queue: DeliveryQueue,
    /** Present when this process delivers too (`processor: true`). */
    @Optional() private readonly worker?: DeliveryWorker,
  ) {}

  onModuleInit(): void {
    if (!this.dataSource.subscribers.includes(this)) this.dataSource.subscribers.push(this);
  }

  /** Hand over now when `manager` is not inside a transaction, else at its commit. */
  async release(manager: EntityManager, deliveries: OwnedDeliveries[]): Promise<void> {
    const runner = manager.queryRunner;
    if (!runner || !runner.isTransactionActive) {
      await this.handOver(deliveries);
      return;
    }
    const entries = this.held.get(runner) ?? [];
    entries.push({ depth: depthOf(runner), deliveries });
    this.held.set(runner, entries);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    const entries = this.held.get(runner);
    if (!entries) return;
    if (runner.isTransactionActive) {
      // A savepoint was released: its rows now live or die with the enclosing transaction.
      const depth = depthOf(runner);
      for (const entry of entries) entry.depth = Math.min(entry.depth, depth);
      return;
    }
    this.held.delete(runner);
    // Not awaited: the host's commit must not wait on, or fail because of, Redis or the claim.
    void this.handOver(entries.flatMap((entry) => entry.deliveries));
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const entries = this.held.get(runner);
    if (!entries) return;
    const depth = runner.isTransactionActive ? depthOf(runner) : 0;
    const kept = entries.filter((entry) => entry.depth <= depth);
    if (kept.length > 0) this.held.set(runner, kept);
    else this.held.delete(runner);
  }

  /**
   * Committed deliveries: the local worker claims what it has room for, the rest is queued; never
   * throws, and resolves once these ids are handed over. Transactions that commit while a claim is
   * in flight share the next one, so 500 small transactions a second do not cost 500 claims. The
   * Redis hand-over of one group runs alongside the next group's claim, so a slow Redis delays each
   * caller by at most `ENQUEUE_PATIENCE_MS`, not by that times the groups ahead of it.
   */
  private handOver(deliveries: OwnedDeliveries[]): Promise<void> {
    return new Promise((done) => {
      this.committed.push({ deliveries, done });
      this.handing ??= this.handOverAll();
    });
  }

  private async handOverAll(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // commits of this same turn join
    try {
      while (this.committed.length > 0) {
        const group = this.committed.splice(0);
        const byOwner = groupByOwner(group.flatMap((entry) => entry.deliveries.flatMap(({ owner, ids }) => ids.map((id) => ({ owner, id })))));
        const rest: OwnedDeliveries[] = [];
        for (const { owner, ids } of byOwner) rest.push({ owner, ids: this.worker ? await this.worker.takeCommitted(owner, ids).catch(() => ids) : ids });
        void this.queue.enqueueCommitted(rest).finally(() => group.forEach((entry) => entry.done()));
      }
    } finally {
      this.handing = null;
    }
  }
}

function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}
