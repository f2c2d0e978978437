import type { DataSource } from 'typeorm';
import { WebhooksSetupError } from '../../webhooks.errors.js';
import { SqlWriter } from '../sql-writer.js';
import { MysqlDialect } from './mysql.dialect.js';
import { PostgresDialect } from './postgres.dialect.js';
import type { SqlDialect } from './sql-dialect.js';
import { SqliteDialect } from './sqlite.dialect.js';

/** The supported databases, by TypeORM driver type. */
const DIALECTS: ReadonlyArray<{ types: readonly string[]; dialect: new (sql: SqlWriter) => SqlDialect }> = [
  { types: ['postgres'], dialect: PostgresDialect },
  { types: ['mysql', 'mariadb'], dialect: MysqlDialect },
  { types: ['better-sqlite3', 'sqlite'], dialect: SqliteDialect },
];

/** The dialect of the host's data source; an unsupported database fails the boot, naming the supported ones. */
export function dialectFor(dataSource: DataSource): SqlDialect {
  const type = String(dataSource.options.type);
  const known = DIALECTS.find((entry) => entry.types.includes(type));
  if (!known) {
    const supported = DIALECTS.flatMap((entry) => entry.types).join(', ');
    throw new WebhooksSetupError(
      `the TypeORM data source is of type "${type}", which WebhooksModule does not support; use one of ${supported}`,
    );
  }
  return new known.dialect(new SqlWriter(dataSource));
}
