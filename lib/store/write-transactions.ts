import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';
import { SqlDialect } from './dialects/sql-dialect.js';

/**
 * Runs the module's own write transactions: one at a time where the dialect says they must take
 * turns (SQLite's single shared connection), else each on a pooled connection of its own.
 */
@Injectable()
export class WriteTransactions {
  private readonly serial: boolean;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    dialect: SqlDialect,
  ) {
    this.serial = dialect.serialTransactions;
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serial) return this.dataSource.transaction(work);
    const result = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = result.catch(() => undefined);
    return result;
  }
}
