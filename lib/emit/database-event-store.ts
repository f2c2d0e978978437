import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SqlDialect } from '../store/dialects/sql-dialect.js';
import { EmitFailedError } from '../webhooks.errors.js';
import { EventBatcher } from './event-batcher.js';
import { EventStore } from './event-store.js';
import { EventWriter, type PreparedEvent } from './event-writer.js';
import { TransactionOutbox } from './transaction-outbox.js';

/**
 * Events into the database: through the group commit on their own, or inside the caller's
 * transaction with their deliveries held until it commits.
 */
@Injectable()
export class DatabaseEventStore extends EventStore {
  constructor(
    private readonly dialect: SqlDialect,
    private readonly writer: EventWriter,
    private readonly outbox: TransactionOutbox,
    private readonly batcher: EventBatcher,
  ) {
    super();
  }

  /** MySQL and MariaDB keep the body in a TEXT column. */
  get maxBodyBytes(): number {
    return this.dialect.maxBodyBytes;
  }

  write(events: PreparedEvent[], manager?: EntityManager): Promise<string[]> {
    return manager ? this.writeInCallerTransaction(manager, events) : this.batcher.write(events);
  }

  private async writeInCallerTransaction(manager: EntityManager, events: PreparedEvent[]): Promise<string[]> {
    let result;
    try {
      result = await this.writer.write(manager, events);
    } catch (error) {
      throw new EmitFailedError(error);
    }
    await this.outbox.release(manager, result.pending);
    return result.eventIds;
  }
}
