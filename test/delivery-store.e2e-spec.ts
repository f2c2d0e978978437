import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity } from '../lib/index.js';
import { SqlDialect } from '../lib/store/dialects/sql-dialect.js';
import { WriteTransactions } from '../lib/store/write-transactions.js';
import { DeliveryStore, type ClaimedDelivery, type DeliveryUpdate } from '../lib/store/delivery-store.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { selectedDatabase } from './support/test-database.js';

const LEASE_MS = 60_000;

/**
 * The worker's two hot statements, against the real database: the claim (lease + read in one go) and
 * the batched outcome write. No processor runs, so nothing else touches the rows.
 */
describe('DeliveryStore', () => {
  let t: TestApp;
  let store: DeliveryStore;

  beforeAll(async () => {
    t = await startTestApp({ webhooks: { processor: false } });
    // the store is only provided with the processor
    store = new DeliveryStore(t.dataSource, t.app.get(SqlDialect), t.app.get(WriteTransactions));
  });

  afterAll(() => t.close());

  async function pendingDeliveries(count: number): Promise<string[]> {
    const owner = uniqueOwner();
    await t
      .api(owner)
      .post('/v1/webhooks')
      .send({ url: 'http://127.0.0.1:9/store', events: ['*'] })
      .expect(201);
    const events = await t.publisher.emitMany(
      Array.from({ length: count }, (_, n) => ({ type: 'user.created', data: { n }, ownerId: owner })),
    );
    const rows = await t.dataSource
      .getRepository(WebhookDeliveryEntity)
      .find({ where: events.map((e) => ({ eventId: e.id })), order: { id: 'ASC' } });
    expect(rows).toHaveLength(count);
    return rows.map((row) => row.id);
  }

  it('leases due deliveries once, with their bodies and endpoints', async () => {
    const ids = await pendingDeliveries(60);
    const claimed = await store.claim(ids, LEASE_MS);
    expect(claimed.map((c) => c.delivery.id).sort()).toEqual(ids);
    expect(claimed.every((c) => c.body?.startsWith('{"id":"evt_') && c.endpoint?.url === 'http://127.0.0.1:9/store')).toBe(true);
    expect(new Set(claimed.map((c) => c.delivery.leaseToken)).size).toBe(1);
    expect(await store.claim(ids, LEASE_MS)).toEqual([]); // held: a second worker gets nothing
  });

  it('writes a mixed batch larger than one statement exactly, and leaves rows whose lease was lost alone', async () => {
    const ids = await pendingDeliveries(600);
    const claimed = await store.claim(ids, LEASE_MS);
    expect(claimed).toHaveLength(600);
    const at = Date.now();
    // The first row is all NULLs where it can be: the inline table's column types must not come from it.
    // Retry times carry jitter fractions; the columns hold whole milliseconds.
    const deferred = (c: ClaimedDelivery): DeliveryUpdate => ({
      delivery: c.delivery,
      change: { status: 'pending', attemptCount: 0, nextAttemptAt: at + 5_000, lastStatusCode: null, lastError: null, completedAt: null },
    });
    const succeeded = (c: ClaimedDelivery, n: number): DeliveryUpdate => ({
      delivery: c.delivery,
      change: { status: 'succeeded', attemptCount: 1, nextAttemptAt: null, lastStatusCode: 200, lastError: null, completedAt: at + n },
      attempt: {
        id: `att_${c.delivery.id.slice(4)}`,
        attempt: 1,
        startedAt: at,
        durationMs: 3,
        statusCode: 200,
        error: null,
        responseBody: 'ok',
      },
    });
    const retrying = (c: ClaimedDelivery): DeliveryUpdate => ({
      delivery: c.delivery,
      change: {
        status: 'pending',
        attemptCount: 1,
        nextAttemptAt: at + 60_000.6,
        lastStatusCode: 503,
        lastError: "HTTP 503 — it's 'quoted'",
        completedAt: null,
      },
      attempt: {
        id: `att_${c.delivery.id.slice(4)}`,
        attempt: 1,
        startedAt: at,
        durationMs: 7,
        statusCode: 503,
        error: "HTTP 503 — it's 'quoted'",
        responseBody: null,
      },
    });
    const stolen = { ...claimed[599], delivery: { ...claimed[599].delivery, leaseToken: 'not-the-lease' } };
    const updates = [
      deferred(claimed[0]),
      ...claimed.slice(1, 400).map((c, i) => succeeded(c, i + 1)),
      ...claimed.slice(400, 599).map(retrying),
      succeeded(stolen, 599),
    ];

    await store.apply(updates);

    const rows = new Map(
      (await t.dataSource.getRepository(WebhookDeliveryEntity).find({ where: ids.map((id) => ({ id })) })).map((row) => [row.id, row]),
    );
    expect(rows.get(claimed[0].delivery.id)).toMatchObject({
      status: 'pending',
      attemptCount: 0,
      nextAttemptAt: at + 5_000,
      lastStatusCode: null,
      leaseToken: null,
      completedAt: null,
    });
    expect(rows.get(claimed[1].delivery.id)).toMatchObject({
      status: 'succeeded',
      attemptCount: 1,
      nextAttemptAt: null,
      lastStatusCode: 200,
      lastError: null,
      completedAt: at + 1,
      leaseToken: null,
    });
    expect(rows.get(claimed[399].delivery.id)).toMatchObject({ status: 'succeeded', completedAt: at + 399 });
    expect(rows.get(claimed[400].delivery.id)).toMatchObject({
      status: 'pending',
      attemptCount: 1,
      nextAttemptAt: at + 60_000,
      lastStatusCode: 503,
      lastError: "HTTP 503 — it's 'quoted'",
    });
    expect([...rows.values()].filter((row) => row.status === 'succeeded')).toHaveLength(399);
    expect([...rows.values()].filter((row) => row.leaseToken === null)).toHaveLength(599);
    // The row written under a lease it no longer holds is untouched (its real lease still stands).
    expect(rows.get(claimed[599].delivery.id)).toMatchObject({
      status: 'pending',
      attemptCount: 0,
      leaseToken: claimed[599].delivery.leaseToken,
    });
    const attempts = await t.dataSource.getRepository(WebhookDeliveryAttemptEntity).countBy(ids.map((deliveryId) => ({ deliveryId })));
    expect(attempts).toBe(599); // attempts are history: what was sent is kept even if the lease was lost
  });

  // Only PostgreSQL plans the claim from statistics this way; the test exists only where it means something.
  (selectedDatabase() === 'postgres' ? [it] : []).forEach((postgresOnly) =>
    postgresOnly('claims through the primary key even when the statistics say nothing is pending', async () => {
      const table = t.dataSource.getMetadata(WebhookDeliveryEntity).tablePath;
      await t.dataSource.query(`UPDATE ${table} SET status = 'succeeded', next_attempt_at = NULL`);
      await t.dataSource.query(`ANALYZE ${table}`);
      const ids = await pendingDeliveries(2_000);
      const statements: Array<[string, unknown[]]> = [];
      // Capture the claim's statement instead of running it (jest.spyOn is not there in ESM mode).
      const query = t.dataSource.query;
      t.dataSource.query = (async (sql: string, parameters?: unknown[]) => {
        statements.push([sql, parameters ?? []]);
        return [];
      }) as typeof query;
      try {
        await store.claim(ids.slice(0, 50), LEASE_MS);
      } finally {
        t.dataSource.query = query;
      }
      const [[sql, parameters]] = statements;
      const plan = JSON.stringify(await t.dataSource.query(`EXPLAIN (FORMAT JSON) ${sql}`, parameters));
      expect(plan).toContain('PK_');
      expect(plan).not.toContain('IDX_webhook_deliveries_due');
    }),
  );
});
