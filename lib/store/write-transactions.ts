import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';

/**
 * Runs the module's own write transactions. TypeORM gives SQLite a single shared connection, so two
 * overlapping `transaction()` calls would silently nest as savepoints of one another; on SQLite they
 * are therefore taken one at a time. Other databases get a pooled connection per transaction.
 */
@Injectable()
export class WriteTransactions {
  private readonly serial: boolean;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource) {
    const type = dataSource.options.type;
    this.serial = type === 'better-sqlite3' || type === 'sqlite' || type === 'capacitor' || type === 'expo' || type === 'react-native';
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serial) return this.dataSource.transaction(work);
    const result = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = result.catch(() => undefined);
    return result;
  }
}
