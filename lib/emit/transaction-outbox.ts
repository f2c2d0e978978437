import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import { DeliveryDispatcher } from '../dispatch/delivery-dispatcher.js';
import type { OwnedDeliveries } from '../dispatch/owned-deliveries.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';

interface HeldDeliveries {
  depth: number;
  deliveries: OwnedDeliveries[];
}

/**
 * Holds deliveries written inside a caller's transaction until that transaction commits, so nothing
 * reaches Redis (or a worker) for rows a rollback would erase. Savepoints are tracked by depth: rolling
 * back an inner block drops only what it wrote. At commit they are dispatched: a worker in this
 * process claims what it has room for and the rest is queued.
 */
@Injectable()
export class TransactionOutbox implements EntitySubscriberInterface, OnModuleInit {
  private readonly held = new WeakMap<QueryRunner, HeldDeliveries[]>();

  constructor(
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  onModuleInit(): void {
    if (!this.dataSource.subscribers.includes(this)) this.dataSource.subscribers.push(this);
  }

  /** Hand over now when `manager` is not inside a transaction, else at its commit. */
  async release(manager: EntityManager, deliveries: OwnedDeliveries[]): Promise<void> {
    const runner = manager.queryRunner;
    if (!runner || !runner.isTransactionActive) {
      await this.dispatcher.dispatch(deliveries);
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
    void this.dispatcher.dispatch(entries.flatMap((entry) => entry.deliveries));
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
}

function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}
