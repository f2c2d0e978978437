import { DataSource, type DataSourceOptions, type EntityManager } from 'typeorm';
import { WEBHOOK_ENTITIES, WebhookDeliveryEntity, WebhookEventEntity } from '../entities/index.js';
import { SqlWriter } from '../sql-writer.js';
import { WriteTransactions } from '../write-transactions.js';
import { MysqlDialect } from './mysql.dialect.js';
import { PostgresDialect } from './postgres.dialect.js';
import type { ClaimStatements, OutcomeRow, SqlDialect } from './sql-dialect.js';
import { SqliteDialect } from './sqlite.dialect.js';

/**
 * PostgreSQL and MySQL are checked on the statements they are given (their drivers load, nothing
 * connects); SQLite runs them, in memory.
 */
interface Statement {
  sql: string;
  values: unknown[];
}

function recordingManager() {
  const statements: Statement[] = [];
  const manager = {
    query: async (sql: string, values: unknown[] = []) => {
      statements.push({ sql, values });
      return [];
    },
  } as unknown as EntityManager;
  return { manager, statements };
}

/** A data source whose metadata is built, without a connection. */
async function offline(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource({ ...options, entities: WEBHOOK_ENTITIES } as DataSourceOptions);
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  return dataSource;
}

/** `$1 … $n` for PostgreSQL, `?` elsewhere: how many placeholders a statement has, and whether they are numbered 1..n. */
function placeholders(sql: string): { count: number; numberedInOrder: boolean } {
  const numbered = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  if (numbered.length > 0) return { count: numbered.length, numberedInOrder: numbered.every((n, i) => n === i + 1) };
  return { count: (sql.match(/\?/g) ?? []).length, numberedInOrder: true };
}

function deliveryRow(n: number, overrides: Partial<WebhookDeliveryEntity> = {}): WebhookDeliveryEntity {
  return {
    id: `dlv_${String(n).padStart(4, '0')}`,
    eventId: `evt_${n}`,
    eventType: 'user.created',
    endpointId: 'ep_1',
    status: 'pending',
    attemptCount: 0,
    nextAttemptAt: 1_000,
    leaseToken: `lease-${n}`,
    leaseUntil: 2_000,
    lastStatusCode: null,
    lastError: null,
    createdAt: 1_000,
    updatedAt: 1_000,
    completedAt: null,
    ...overrides,
  };
}

function eventRow(n: number) {
  return {
    id: `evt_${String(n).padStart(4, '0')}`,
    ownerId: 'owner-1',
    type: 'user.created',
    body: '{}',
    idempotencyKey: null,
    createdAt: 1_000,
  };
}

function outcome(n: number, overrides: Partial<OutcomeRow> = {}): OutcomeRow {
  return {
    id: `dlv_${String(n).padStart(4, '0')}`,
    leaseToken: `lease-${n}`,
    status: 'succeeded',
    attemptCount: 1,
    nextAttemptAt: null,
    lastStatusCode: 200,
    lastError: null,
    completedAt: 5_000,
    ...overrides,
  };
}

/** Lets a test lower the parameter limit, as a database with a smaller one would. */
function withMaxParameters<D extends SqlDialect>(dialect: D, maxParameters: number): D {
  Object.defineProperty(dialect, 'maxParameters', { value: maxParameters });
  return dialect;
}

describe('SQL dialects', () => {
  let postgres: PostgresDialect;
  let mysql: MysqlDialect;
  let sqliteSource: DataSource;
  let sqlite: SqliteDialect;

  beforeAll(async () => {
    postgres = new PostgresDialect(new SqlWriter(await offline({ type: 'postgres', database: 'offline' })));
    mysql = new MysqlDialect(new SqlWriter(await offline({ type: 'mariadb', database: 'offline' })));
    sqliteSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: WEBHOOK_ENTITIES,
      synchronize: true,
    }).initialize();
    sqlite = new SqliteDialect(new SqlWriter(sqliteSource));
  });

  afterAll(() => sqliteSource.destroy());

  beforeEach(async () => {
    await sqliteSource.query('DELETE FROM webhook_deliveries');
    await sqliteSource.query('DELETE FROM webhook_events');
  });

  const dialects = () =>
    [
      ['postgres', postgres],
      ['mysql', mysql],
      ['sqlite', sqlite],
    ] as const;

  describe('multi-row INSERTs', () => {
    it.each(['postgres', 'mysql', 'sqlite'] as const)('%s: splits rows into statements that stay within maxParameters', async (name) => {
      const base = dialects().find(([n]) => n === name)![1];
      const columns = base.sql.columnCount(WebhookDeliveryEntity);
      // Room for three and a half rows: three go in each statement.
      const dialect = withMaxParameters(Object.create(base) as SqlDialect, Math.floor(3.5 * columns));
      const { manager, statements } = recordingManager();
      const rows = Array.from({ length: 10 }, (_, n) => deliveryRow(n));
      await dialect.insert(manager, WebhookDeliveryEntity, rows);

      expect(statements.map((s) => s.values.length / columns)).toEqual([3, 3, 3, 1]);
      for (const statement of statements) {
        expect(statement.values.length).toBeLessThanOrEqual(dialect.maxParameters);
        expect(placeholders(statement.sql)).toEqual({ count: statement.values.length, numberedInOrder: true });
      }
      const ids = statements.flatMap((s) => s.values.filter((v) => typeof v === 'string' && v.startsWith('dlv_')));
      expect(ids).toEqual(rows.map((row) => row.id));
    });

    it('writes a row per statement when one row has more columns than the limit', async () => {
      const dialect = withMaxParameters(Object.create(mysql) as SqlDialect, 2);
      const { manager, statements } = recordingManager();
      await dialect.insert(manager, WebhookEventEntity, [eventRow(1), eventRow(2)]);
      expect(statements).toHaveLength(2);
    });

    it('issues nothing for no rows', async () => {
      const { manager, statements } = recordingManager();
      await postgres.insert(manager, WebhookEventEntity, []);
      expect(statements).toEqual([]);
    });

    it('stores every row of a chunked insert (SQLite)', async () => {
      const dialect = withMaxParameters(Object.create(sqlite) as SqlDialect, 2 * sqlite.sql.columnCount(WebhookEventEntity));
      await dialect.insert(
        sqliteSource.manager,
        WebhookEventEntity,
        Array.from({ length: 7 }, (_, n) => eventRow(n)),
      );
      const stored = await sqliteSource.getRepository(WebhookEventEntity).find({ order: { id: 'ASC' } });
      expect(stored.map((e) => e.id)).toEqual(Array.from({ length: 7 }, (_, n) => eventRow(n).id));
    });
  });

  describe('outcome updates', () => {
    it('updates the leased rows in one statement, leaving alone a row whose lease was lost (SQLite)', async () => {
      await sqlite.insert(
        sqliteSource.manager,
        WebhookDeliveryEntity,
        [1, 2, 3, 4].map((n) => deliveryRow(n)),
      );
      await sqlite.updateOutcomes(
        sqliteSource.manager,
        [
          outcome(1),
          outcome(2, {
            status: 'pending',
            nextAttemptAt: 7_000.6,
            lastStatusCode: 500,
            lastError: "HTTP 500; it's down",
            completedAt: null,
            attemptCount: 1,
          }),
          outcome(3, { leaseToken: 'someone-else' }),
        ],
        9_000.9,
      );
      const rows = await sqliteSource.getRepository(WebhookDeliveryEntity).find({ order: { id: 'ASC' } });
      expect(rows[0]).toMatchObject({
        status: 'succeeded',
        attemptCount: 1,
        lastStatusCode: 200,
        completedAt: 5_000,
        leaseToken: null,
        leaseUntil: null,
        updatedAt: 9_000,
      });
      expect(rows[1]).toMatchObject({
        status: 'pending',
        nextAttemptAt: 7_000,
        lastStatusCode: 500,
        lastError: "HTTP 500; it's down",
        completedAt: null,
        leaseToken: null,
      });
      expect(rows[2]).toMatchObject({ status: 'pending', leaseToken: 'lease-3', updatedAt: 1_000 });
      expect(rows[3]).toMatchObject({ status: 'pending', leaseToken: 'lease-4', updatedAt: 1_000 });
    });

    it.each(['mysql', 'sqlite'] as const)('%s: binds the text of every outcome, in order, and writes numbers as integers', async (name) => {
      const dialect = dialects().find(([n]) => n === name)![1];
      const { manager, statements } = recordingManager();
      const rows = [outcome(1, { lastError: 'HTTP 500', nextAttemptAt: 1_234.7 }), outcome(2), outcome(3, { status: 'failed' })];
      await dialect.updateOutcomes(manager, rows, 1);
      expect(statements).toHaveLength(1);
      const [{ sql, values }] = statements;
      expect(values).toEqual([
        ...['dlv_0001', 'lease-1', 'succeeded', 'HTTP 500'],
        ...['dlv_0002', 'lease-2', 'succeeded'],
        ...['dlv_0003', 'lease-3', 'failed'],
        ...['dlv_0001', 'dlv_0002', 'dlv_0003'],
      ]);
      expect(placeholders(sql).count).toBe(values.length);
      expect(sql).toContain('1234');
      expect(sql).not.toContain('1234.7');
    });

    it('mysql: joins rather than taking FROM, and casts the way MySQL does', async () => {
      const { manager, statements } = recordingManager();
      await mysql.updateOutcomes(manager, [outcome(1)], 1);
      expect(statements[0].sql).toMatch(/^UPDATE `webhook_deliveries` JOIN \(/);
      expect(statements[0].sql).toContain('AS SIGNED)');
      expect(statements[0].sql).not.toMatch(/AS (INTEGER|BIGINT)\)/);
    });

    it('postgres: one statement of eight bound arrays, one element per outcome, numbers made whole', async () => {
      const { manager, statements } = recordingManager();
      const rows = Array.from({ length: 300 }, (_, n) => outcome(n, { nextAttemptAt: n + 0.5 }));
      await postgres.updateOutcomes(manager, rows, 1);
      expect(statements).toHaveLength(1);
      const [{ sql, values }] = statements;
      expect(values).toHaveLength(8);
      for (const column of values as unknown[][]) expect(column).toHaveLength(300);
      expect(values[0]).toEqual(rows.map((row) => row.id));
      expect(values[1]).toEqual(rows.map((row) => row.leaseToken));
      expect(values[4]).toEqual(rows.map((_, n) => n));
      expect(placeholders(sql).numberedInOrder).toBe(false); // $1, the ids, is used twice
      expect(new Set([...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8]));
    });

    it('takes 250 outcomes per statement where the inline table grows with the batch, any number on PostgreSQL', () => {
      expect([mysql.outcomesPerStatement, sqlite.outcomesPerStatement, postgres.outcomesPerStatement]).toEqual([250, 250, Infinity]);
    });
  });

  describe('claims', () => {
    const statements = (): ClaimStatements => ({
      lease: { sql: 'UPDATE leases', values: ['lease-values'] },
      leasedColumns: ['id', 'lease_until'],
      read: (source) => `SELECT * FROM ${source}`,
      readLeased: { sql: 'SELECT leased', values: ['read-values'] },
    });

    it.each(['mysql', 'sqlite'] as const)('%s: leases, then reads what it leased', async (name) => {
      const dialect = dialects().find(([n]) => n === name)![1];
      const { manager, statements: issued } = recordingManager();
      await dialect.claim(manager, statements());
      expect(issued).toEqual([
        { sql: 'UPDATE leases', values: ['lease-values'] },
        { sql: 'SELECT leased', values: ['read-values'] },
      ]);
    });

    it('postgres: leases and reads in one statement, the read taking the rows the lease returns', async () => {
      const { manager, statements: issued } = recordingManager();
      await postgres.claim(manager, statements());
      expect(issued).toHaveLength(1);
      expect(issued[0].values).toEqual(['lease-values']);
      const match = /^WITH (\w+) AS \(UPDATE leases RETURNING "id", "lease_until"\) SELECT \* FROM (\w+)$/.exec(issued[0].sql);
      expect(match).not.toBeNull();
      expect(match![1]).toBe(match![2]);
    });
  });

  describe('combined inserts', () => {
    it('postgres: one statement for events and deliveries, their values bound once each in order', () => {
      const p = postgres.sql.parameters();
      const events = postgres.sql.insertStatement(WebhookEventEntity, [eventRow(1), eventRow(2)], p);
      const deliveries = postgres.sql.insertStatement(WebhookDeliveryEntity, [deliveryRow(1)], p);
      const combined = postgres.combineInserts(events, deliveries);
      expect(postgres.combinesInserts).toBe(true);
      expect(combined).toContain(events);
      expect(combined).toContain(deliveries);
      expect(placeholders(combined)).toEqual({ count: p.values.length, numberedInOrder: true });
      expect(combined.indexOf(events)).toBeLessThan(combined.indexOf(deliveries));
    });

    it.each(['mysql', 'sqlite'] as const)('%s: does not combine, so the writer falls back to a transaction', (name) => {
      const dialect = dialects().find(([n]) => n === name)![1];
      expect(dialect.combinesInserts).toBe(false);
      expect(() => dialect.combineInserts('INSERT 1', 'INSERT 2')).toThrow('cannot combine INSERTs');
    });
  });

  describe('write transactions', () => {
    /** A data source whose transactions take a turn of the event loop and record how many overlap. */
    function overlapping() {
      let open = 0;
      let most = 0;
      const dataSource = {
        transaction: async (work: (manager: EntityManager) => Promise<unknown>) => {
          most = Math.max(most, ++open);
          try {
            await new Promise((resolve) => setImmediate(resolve));
            return await work({} as EntityManager);
          } finally {
            open--;
          }
        },
      } as unknown as DataSource;
      return { dataSource, most: () => most };
    }

    it('runs them one at a time on SQLite, and a failed one does not block the next', async () => {
      const { dataSource, most } = overlapping();
      const transactions = new WriteTransactions(dataSource, sqlite);
      const results = await Promise.allSettled([
        transactions.run(async () => 1),
        transactions.run(async () => {
          throw new Error('constraint');
        }),
        transactions.run(async () => 3),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([1, 'constraint', 3]);
      expect(most()).toBe(1);
    });

    it.each(['postgres', 'mysql'] as const)('%s: lets them overlap on pooled connections', async (name) => {
      const { dataSource, most } = overlapping();
      const transactions = new WriteTransactions(dataSource, dialects().find(([n]) => n === name)![1]);
      await Promise.all([transactions.run(async () => 1), transactions.run(async () => 2), transactions.run(async () => 3)]);
      expect(most()).toBe(3);
    });
  });

  it('caps bodies at what a TEXT column holds on MySQL, and nowhere else', () => {
    expect(mysql.maxBodyBytes).toBe(65_535);
    expect([postgres.maxBodyBytes, sqlite.maxBodyBytes]).toEqual([Infinity, Infinity]);
  });
});
