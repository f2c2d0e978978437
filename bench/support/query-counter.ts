import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * A TypeORM logger that only counts statements, keyed by verb and table ("UPDATE webhook_deliveries",
 * "COMMIT"). TypeORM hands every statement a query runner sends to the logger, transaction control
 * included, so the total is the number of database round trips.
 */
export class QueryCounter implements TypeOrmLogger {
  private counts = new Map<string, number>();

  logQuery(query: string): void {
    const key = statementKey(query);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  take(): Record<string, number> {
    const snapshot = Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
    this.counts = new Map();
    return snapshot;
  }
}

export function statementKey(query: string): string {
  const sql = query.trim().replace(/\s+/g, ' ');
  const verb =
    /^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|SELECT|INSERT INTO|UPDATE|DELETE FROM|\w+)/i
      .exec(sql)?.[1]
      .toUpperCase() ?? '?';
  const table = /(?:FROM|INTO|UPDATE)\s+(?:"[^"]+"\.)?"?(\w+)"?/i.exec(sql)?.[1];
  return table ? `${verb} ${table}` : verb;
}
