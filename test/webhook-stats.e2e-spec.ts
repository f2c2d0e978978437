import { WebhookDeliveryAttemptEntity } from '../lib/index.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { selectedDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

const HOUR = 3_600_000;

/** Nearest rank, as the route documents it. */
function nearestRank(sorted: number[], p: number): number | null {
  return sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('GET /v1/webhooks/:id/stats', () => {
  let t: TestApp;
  let receiver: TestReceiver;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    // Events that ask to fail are answered 500; without retries each one is one failed attempt.
    receiver.on('/stats', (request) => ({ status: JSON.parse(request.body).data.fail ? 500 : 200 }));
    receiver.on('/other', { status: 200 });
    t = await startTestApp({ webhooks: { retry: { schedule: [] } } });
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  async function create(owner: string, path: string): Promise<string> {
    const { body } = await t
      .api(owner)
      .post('/v1/webhooks')
      .send({ url: receiver.url(path), events: ['user.created'] })
      .expect(201);
    return body.id;
  }

  it(
    "reports the endpoint's own attempts, delivered to a real receiver: " + 'counts, success rate, p50/p95, last success and failure',
    async () => {
      const owner = uniqueOwner('stats');
      const id = await create(owner, '/stats');
      const other = await create(owner, '/other');
      const outcomes = [false, false, true, false, true, false, false, true, false];
      for (const fail of outcomes) await t.publisher.emit('user.created', { fail }, { ownerId: owner });

      const finished = async (endpoint: string) => {
        const { body } = await t.api(owner).get(`/v1/webhooks/${endpoint}/deliveries?limit=100`).expect(200);
        return body.data.length === outcomes.length && body.data.every((d: { status: string }) => d.status !== 'pending')
          ? body.data
          : null;
      };
      await waitFor(
        'every delivery to both endpoints to finish',
        async () => (await finished(id)) !== null && (await finished(other)) !== null,
      );

      const deliveries: Array<{ id: string }> = (await finished(id))!;
      const attempts = (
        await Promise.all(
          deliveries.map(async (d) => (await t.api(owner).get(`/v1/webhooks/${id}/deliveries/${d.id}`).expect(200)).body.attempts),
        )
      ).flat() as Array<{ started_at: string; duration_ms: number; status_code: number | null; error: string | null }>;
      const ok = (a: (typeof attempts)[number]) => a.status_code !== null && a.status_code >= 200 && a.status_code < 300;
      const latest = (list: typeof attempts) =>
        list.length === 0
          ? null
          : list
              .map((a) => a.started_at)
              .sort()
              .at(-1);
      const durations = attempts
        .filter((a) => !a.error?.startsWith('not sent: '))
        .map((a) => a.duration_ms)
        .sort((a, b) => a - b);
      const succeeded = attempts.filter(ok).length;
      expect(succeeded).toBe(outcomes.filter((fail) => !fail).length);

      const { body: stats } = await t.api(owner).get(`/v1/webhooks/${id}/stats?window=1h`).expect(200);
      expect(stats).toEqual({
        webhook_id: id,
        window: '1h',
        since: expect.any(String),
        until: expect.any(String),
        attempts: attempts.length,
        succeeded,
        failed: attempts.length - succeeded,
        success_rate: succeeded / attempts.length,
        p50_duration_ms: nearestRank(durations, 50),
        p95_duration_ms: nearestRank(durations, 95),
        durations_sampled: durations.length,
        last_success_at: latest(attempts.filter(ok)),
        last_failure_at: latest(attempts.filter((a) => !ok(a))),
      });
      expect(Date.parse(stats.until) - Date.parse(stats.since)).toBe(HOUR);

      // The sibling endpoint's attempts are its own.
      const { body: siblings } = await t.api(owner).get(`/v1/webhooks/${other}/stats`).expect(200);
      expect(siblings).toMatchObject({
        window: '24h',
        attempts: outcomes.length,
        succeeded: outcomes.length,
        failed: 0,
        success_rate: 1,
        last_failure_at: null,
      });
    },
  );

  it('counts only the attempts inside the window, and leaves unsent attempts out of the durations', async () => {
    const owner = uniqueOwner('stats');
    const id = await create(owner, '/stats');
    const now = Date.now();
    const attempt = (n: number, ago: number, durationMs: number, statusCode: number | null, error: string | null) => ({
      id: `att_stats${n}_${id.slice(-20)}`,
      deliveryId: `dlv_stats${n}_${id.slice(-20)}`,
      endpointId: id,
      attempt: 1,
      startedAt: now - ago,
      durationMs,
      statusCode,
      error,
      responseBody: null,
    });
    await t.dataSource.getRepository(WebhookDeliveryAttemptEntity).insert([
      attempt(1, 2 * HOUR, 1234, 200, null),
      attempt(2, 10 * 60_000, 10, 500, 'HTTP 500'),
      attempt(3, 5 * 60_000, 0, null, "not sent: the endpoint's probe at 2026-01-01T00:00:00.000Z failed (HTTP 500)"),
      // Another endpoint's attempt, inside every window.
      { ...attempt(4, 60_000, 99, 200, null), endpointId: 'wh_01KB0000000000000000000000' },
    ]);
    const stats = async (window: string) => (await t.api(owner).get(`/v1/webhooks/${id}/stats?window=${window}`).expect(200)).body;
    const iso = (ago: number) => new Date(now - ago).toISOString();

    expect(await stats('1h')).toMatchObject({
      attempts: 2,
      succeeded: 0,
      failed: 2,
      success_rate: 0,
      p50_duration_ms: 10,
      p95_duration_ms: 10,
      durations_sampled: 1,
      last_success_at: null,
      last_failure_at: iso(5 * 60_000),
    });
    expect(await stats('3h')).toMatchObject({
      attempts: 3,
      succeeded: 1,
      failed: 2,
      success_rate: 1 / 3,
      p50_duration_ms: 10,
      p95_duration_ms: 1234,
      durations_sampled: 2,
      last_success_at: iso(2 * HOUR),
      last_failure_at: iso(5 * 60_000),
    });
    expect(await stats('1m')).toMatchObject({
      attempts: 0,
      succeeded: 0,
      failed: 0,
      success_rate: null,
      p50_duration_ms: null,
      p95_duration_ms: null,
      durations_sampled: 0,
      last_success_at: null,
      last_failure_at: null,
    });
  });

  it("refuses a bad window with 400, and answers 404 for ids that are not the caller's", async () => {
    const owner = uniqueOwner('stats');
    const id = await create(owner, '/stats');
    for (const window of ['bad', '0h', '1w', '31d', '1.5h', '721h', '123456789']) {
      const { body } = await t.api(owner).get(`/v1/webhooks/${id}/stats?window=${window}`).expect(400);
      expect(body.message.join('\n')).toMatch(/window must|window must be shorter/);
    }
    await t.api(owner).get(`/v1/webhooks/${id}/stats?window=1h&limit=5`).expect(400);
    await t.api(owner).get(`/v1/webhooks/${id}/stats?window=1h&window=2h`).expect(400);
    await t.api(uniqueOwner('intruder')).get(`/v1/webhooks/${id}/stats`).expect(404);
    await t.api(owner).get('/v1/webhooks/wh_01KB0000000000000000000000/stats').expect(404);
    await t.api(owner).get('/v1/webhooks/not-an-id/stats').expect(404);
    await t.api(owner, `Bearer read:${owner}`).get(`/v1/webhooks/${id}/stats`).expect(200);
    await t.api(owner, `Bearer nobody:${owner}`).get(`/v1/webhooks/${id}/stats`).expect(403);
    await t.api(owner, 'Bearer nonsense').get(`/v1/webhooks/${id}/stats`).expect(401);
  });

  if (selectedDatabase() === 'postgres') {
    it("reads attempts through the (endpoint_id, started_at) index on PostgreSQL, not a scan of every endpoint's attempts", async () => {
      const owner = uniqueOwner('stats');
      const id = await create(owner, '/stats');
      const table = t.dataSource.getMetadata(WebhookDeliveryAttemptEntity).tablePath;
      const now = Date.now();
      // 50,000 attempts of 500 other endpoints over the last two days, and 100 of this one.
      await t.dataSource.query(
        `INSERT INTO ${table} (id, delivery_id, endpoint_id, attempt, started_at, duration_ms, status_code, error, response_body)
         SELECT 'att_bulk_' || g, 'dlv_bulk_' || g, CASE WHEN g <= 100 THEN $1 ELSE 'wh_bulk_' || (g % 500) END, 1,
                $2::bigint - (g * 3456), g % 700, CASE WHEN g % 10 = 0 THEN 500 ELSE 200 END, NULL, NULL
         FROM generate_series(1, 50100) g`,
        [id, now],
      );
      await t.dataSource.query(`ANALYZE ${table}`);

      const statements: Array<{ sql: string; parameters: unknown[] }> = [];
      const logger = t.dataSource.logger;
      const logQuery = logger.logQuery.bind(logger);
      logger.logQuery = (sql, parameters, runner) => {
        if (sql.includes('webhook_delivery_attempts')) statements.push({ sql, parameters: parameters ?? [] });
        return logQuery(sql, parameters, runner);
      };
      try {
        const { body } = await t.api(owner).get(`/v1/webhooks/${id}/stats?window=7d`).expect(200);
        expect(body).toMatchObject({ attempts: 100, succeeded: 90, failed: 10 });
      } finally {
        logger.logQuery = logQuery;
      }
      expect(statements).toHaveLength(2);
      for (const { sql, parameters } of statements) {
        const plan = (await t.dataSource.query(`EXPLAIN ${sql}`, parameters))
          .map((row: Record<string, string>) => row['QUERY PLAN'])
          .join('\n');
        expect(plan).toContain('IDX_webhook_delivery_attempts_endpoint');
        expect(plan).not.toMatch(/Seq Scan on webhook_delivery_attempts/);
      }
    });
  }
});
