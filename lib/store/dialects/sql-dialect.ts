import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import type { RawValue } from '../endpoint-snapshot.js';
import type { SqlParameters, SqlWriter } from '../sql-writer.js';

/** A statement and the values bound into it. */
export interface BoundStatement {
  sql: string;
  values: unknown[];
}

/** What a claim needs from the store: the lease, and the read of what it leased. */
export interface ClaimStatements {
  /** `UPDATE … SET lease_token, lease_until WHERE <named, due, free>`. */
  lease: BoundStatement;
  /** Columns of the leased rows that `read` takes from them. */
  leasedColumns: readonly string[];
  /** The read of the leased rows (joined to bodies and endpoints) from `source`: a table alias or a CTE. */
  read(source: string): string;
  /** The same read from the table itself, narrowed to this lease. */
  readLeased: BoundStatement;
}

/** A delivery's new state, as the outcome UPDATE writes it. */
export interface OutcomeRow {
  id: string;
  leaseToken: string | null;
  status: string;
  attemptCount: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  completedAt: number | null;
}

export type RawRow = Record<string, RawValue>;

/** Outcome columns in the order the inline table carries them, with how each is typed when a literal. */
export const OUTCOME_COLUMNS = [
  ['id', 'text'],
  ['lease_token', 'text'],
  ['status', 'text'],
  ['attempt_count', 'int'],
  ['next_attempt_at', 'bigint'],
  ['last_status_code', 'int'],
  ['last_error', 'text'],
  ['completed_at', 'bigint'],
] as const;

/**
 * Everything that differs between the databases the module supports, in one place: how a claim is
 * run, how outcomes are written, whether events and their deliveries go in as one statement, how
 * many values a statement may bind, whether write transactions must take turns, and how large a
 * body the schema stores. This base class writes the portable forms; a database that can do better
 * overrides them. Adding a database is one subclass and one line in `dialectFor`.
 */
export abstract class SqlDialect {
  /** Bound values per statement, under every supported database's limit with room to spare. */
  readonly maxParameters: number = 16_000;
  /**
   * Whether the module's own write transactions must run one at a time: TypeORM gives SQLite one
   * shared connection, where two overlapping transactions would silently nest as savepoints.
   */
  readonly serialTransactions: boolean = false;
  /** Largest event body the schema stores; `emit` refuses bigger ones. */
  readonly maxBodyBytes: number = Number.POSITIVE_INFINITY;
  /** Outcome rows per UPDATE. */
  readonly outcomesPerStatement: number = 250;

  constructor(readonly sql: SqlWriter) {}

  /** Multi-row INSERTs of plain rows (property names as on the entity), as few as the parameter limit allows. */
  async insert(manager: EntityManager, entity: EntityTarget<ObjectLiteral>, rows: readonly ObjectLiteral[]): Promise<void> {
    const perStatement = Math.max(1, Math.floor(this.maxParameters / this.sql.columnCount(entity)));
    for (let start = 0; start < rows.length; start += perStatement) {
      const parameters = this.sql.parameters();
      await manager.query(this.sql.insertStatement(entity, rows.slice(start, start + perStatement), parameters), parameters.values);
    }
  }

  /** Leases, then reads what it leased: two statements. */
  async claim(manager: EntityManager, statements: ClaimStatements): Promise<RawRow[]> {
    await manager.query(statements.lease.sql, statements.lease.values);
    return manager.query(statements.readLeased.sql, statements.readLeased.values);
  }

  /**
   * One UPDATE joined to the outcomes as an inline table, so each row costs the same whatever the
   * batch size. The ids are also listed on their own, so that the primary key is the way in even when
   * stale statistics make the table look small. The lease token is matched per row: a row whose
   * lease was lost is left alone.
   */
  async updateOutcomes(manager: EntityManager, rows: readonly OutcomeRow[], updatedAt: number): Promise<void> {
    const p = this.sql.parameters();
    const inline = this.inlineOutcomes(rows, p);
    const byKey = `${this.table}.${this.sql.column('id')} IN (${p.list(rows.map((row) => row.id))})`;
    await manager.query(this.outcomeUpdate(inline, byKey, updatedAt), p.values);
  }

  /** Whether `combineInserts` can make two INSERTs one atomic statement, with no transaction around it. */
  readonly combinesInserts: boolean = false;

  /** Two INSERTs (their values bound in one `SqlParameters`, in order) as one atomic statement. */
  combineInserts(_first: string, _second: string): string {
    throw new Error(`${this.constructor.name} cannot combine INSERTs into one statement`);
  }

  /** `UPDATE … SET … FROM (inline) v WHERE …`, the form SQLite and PostgreSQL share. */
  protected outcomeUpdate(inline: string, byKey: string, updatedAt: number): string {
    return `UPDATE ${this.table} SET ${this.outcomeAssignments(updatedAt)} FROM ${inline} WHERE ${this.outcomeMatch()} AND ${byKey}`;
  }

  protected outcomeAssignments(updatedAt: number): string {
    const c = (name: string) => this.sql.column(name);
    return [
      ...OUTCOME_COLUMNS.slice(2).map(([name]) => `${c(name)} = v.${c(`new_${name}`)}`),
      `${c('lease_token')} = NULL`,
      `${c('lease_until')} = NULL`,
      `${c('updated_at')} = ${Math.trunc(updatedAt)}`,
    ].join(', ');
  }

  protected outcomeMatch(): string {
    const c = (name: string) => this.sql.column(name);
    return `${this.table}.${c('id')} = v.${c('new_id')} AND ${this.table}.${c('lease_token')} = v.${c('new_lease_token')}`;
  }

  /** How a literal of `type` is cast in the first row of the inline table (a column of NULLs has no type of its own). */
  protected cast(type: 'int' | 'bigint'): string {
    return type === 'int' ? 'INTEGER' : 'BIGINT';
  }

  /**
   * The outcomes as `(SELECT … UNION ALL SELECT …) v`. Numbers are literals (integers this module
   * computed); strings are bound, in the order they appear (MySQL and SQLite bind `?` by position).
   */
  private inlineOutcomes(rows: readonly OutcomeRow[], p: SqlParameters): string {
    const selects = rows.map((row, i) => {
      const values = outcomeValues(row);
      const cells = OUTCOME_COLUMNS.map(([name, type], n) => {
        const value = values[n];
        const literal =
          type === 'text' ? (value === null ? 'NULL' : p.add(value)) : value === null ? 'NULL' : String(Math.trunc(value as number));
        if (i > 0) return literal;
        return `${type === 'text' ? literal : `CAST(${literal} AS ${this.cast(type)})`} AS ${this.sql.column(`new_${name}`)}`;
      });
      return `SELECT ${cells.join(', ')}`;
    });
    return `(${selects.join(' UNION ALL ')}) v`;
  }

  protected get table(): string {
    return this.sql.table(WebhookDeliveryEntity);
  }
}

/** An outcome's values in the order of `OUTCOME_COLUMNS`. */
export function outcomeValues(row: OutcomeRow): Array<string | number | null> {
  return [row.id, row.leaseToken, row.status, row.attemptCount, row.nextAttemptAt, row.lastStatusCode, row.lastError, row.completedAt];
}
