import { SqlDialect } from './sql-dialect.js';

/** MySQL and MariaDB: the body is a TEXT column, and UPDATE joins rather than taking FROM. */
export class MysqlDialect extends SqlDialect {
  /** TEXT holds 64 KiB; the portable schema uses TEXT for the body. */
  override readonly maxBodyBytes = 65_535;

  protected override outcomeUpdate(inline: string, byKey: string, updatedAt: number): string {
    return `UPDATE ${this.table} JOIN ${inline} ON ${this.outcomeMatch()} SET ${this.outcomeAssignments(updatedAt)} WHERE ${byKey}`;
  }

  protected override cast(): string {
    return 'SIGNED';
  }
}
