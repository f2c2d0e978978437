import { SqlDialect } from './sql-dialect.js';

/** SQLite (better-sqlite3): the portable forms, with write transactions taking turns on its one connection. */
export class SqliteDialect extends SqlDialect {
  override readonly serialTransactions = true;
}
