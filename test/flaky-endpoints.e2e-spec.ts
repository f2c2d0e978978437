import { In } from 'typeorm';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity } from '../lib/index.js';
import { seededRandom } from './support/seeded-random.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver, type Reply } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/**
 * Endpoints that fail part of the time are normal on the internet. Each must still get every event,
 * whichever way it fails: an error status, a reset connection, or a request that is never answered.
 */
describe('flaky endpoints', () => {
  let receiver: TestReceiver;
  let t: TestApp;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp({ webhooks: { retry: { schedule: Array(12).fill(150) }, delivery: { timeoutMs: 500 } } });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  /** Registers an endpoint for a new owner whose receiver answers 200, or fails as `failure` with probability `rate`. */
  async function flakyEndpoint(label: string, failure: Reply, rate: number, app = t): Promise<{ owner: string; path: string; id: string }> {
    const owner = uniqueOwner(label);
    const path = `/${owner}`;
    const random = seededRandom(label);
    receiver.on(path, () => (random() < rate ? failure : { status: 200 }));
    const { id } = (
      await app
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url(path), events: ['*'] })
        .expect(201)
    ).body;
    return { owner, path, id };
  }

  /** Distinct event ids that reached `path` with a 2xx answer owed (any request counts: retries resend the same id). */
  const delivered = (path: string) => new Set(receiver.at(path).map((request) => request.headers['webhook-id'] as string));

  async function statusCounts(endpointId: string, app = t): Promise<Record<string, number>> {
    const rows: Array<{ status: string; count: string | number }> = await app.dataSource
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .select('d.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .where('d.endpoint_id = :endpointId', { endpointId })
      .groupBy('d.status')
      .getRawMany();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  it('delivers every event to endpoints failing 30 % of requests by error, reset or hang', async () => {
    const endpoints = [
      await flakyEndpoint('error', { status: 500 }, 0.3),
      await flakyEndpoint('reset', { reset: true }, 0.3),
      await flakyEndpoint('hang', { hang: true }, 0.3),
    ];
    const deadline = Date.now() + 60_000;
    const emitted = new Map<string, Set<string>>();
    for (const { owner, path } of endpoints) {
      const ids = new Set<string>();
      for (let n = 0; n < 300; n++) ids.add((await t.publisher.emit('user.created', { n }, { ownerId: owner })).id);
      emitted.set(path, ids);
    }
    for (const { path, id } of endpoints) {
      await waitFor(
        `all 300 events at ${path}`,
        async () => {
          const got = delivered(path);
          const counts = await statusCounts(id);
          return counts.succeeded === 300 && [...emitted.get(path)!].every((eventId) => got.has(eventId));
        },
        Math.max(0, deadline - Date.now()),
        250,
      ).catch(async (error) => {
        throw new Error(
          `${(error as Error).message}; statuses ${JSON.stringify(await statusCounts(id))}, received ${delivered(path).size}`,
        );
      });
    }
  }, 90_000);

  describe('with a quick circuit breaker', () => {
    const breaker = { failuresToOpen: 3, baseBackoffMs: 200, maxBackoffMs: 800 };
    let quick: TestApp;

    beforeAll(async () => {
      quick = await startTestApp({
        webhooks: { retry: { schedule: [100, 100, 100] }, delivery: { timeoutMs: 300, circuitBreaker: breaker } },
      });
    });

    afterAll(() => quick.close());

    it(
      'runs the deliveries of an endpoint that never answers through their schedule, ' + 'probing it at least every maximum back-off',
      async () => {
        const { owner, path, id } = await flakyEndpoint('dead', { hang: true }, 1, quick);
        for (let n = 0; n < 20; n++) await quick.publisher.emit('user.created', { n }, { ownerId: owner });
        await waitFor('every delivery to fail', async () => (await statusCounts(id, quick)).failed === 20, 30_000, 100);

        const deliveries = await quick.dataSource.getRepository(WebhookDeliveryEntity).findBy({ endpointId: id });
        const attempts = await quick.dataSource
          .getRepository(WebhookDeliveryAttemptEntity)
          .findBy({ deliveryId: In(deliveries.map((d) => d.id)) });
        expect(deliveries.every((delivery) => delivery.attemptCount === 4)).toBe(true);
        // Four attempts each, as the schedule says; most of them shared a failed probe instead of being sent.
        expect(attempts).toHaveLength(80);
        const unsent = attempts.filter((attempt) => attempt.error?.startsWith("not sent: the endpoint's probe"));
        expect(unsent.length).toBeGreaterThan(0);
        expect(receiver.at(path).length).toBe(80 - unsent.length);
        // While it was open, probes kept going out: more requests than it took to open it. That the back-off is
        // capped at maxBackoffMs is proven in simulated time by endpoint-gate.spec.ts; the wall-clock gap is the bench's.
        expect(receiver.at(path).length).toBeGreaterThan(breaker.failuresToOpen);
      },
      40_000,
    );

    it('delivers everything to an endpoint that comes back after being dead for a while', async () => {
      const owner = uniqueOwner('revived');
      const path = `/${owner}`;
      let dead = true;
      receiver.on(path, () => (dead ? { hang: true } : { status: 200 }));
      const { id } = (
        await quick
          .api(owner)
          .post('/v1/webhooks')
          .send({ url: receiver.url(path), events: ['*'] })
          .expect(201)
      ).body;
      const emitted = new Set<string>();
      for (let n = 0; n < 30; n++) emitted.add((await quick.publisher.emit('user.created', { n }, { ownerId: owner })).id);
      await waitFor('the breaker to open', () => receiver.at(path).length >= breaker.failuresToOpen);
      dead = false;
      await waitFor('every delivery to succeed', async () => (await statusCounts(id, quick)).succeeded === 30, 20_000, 100).catch(
        async (error) => {
          throw new Error(`${(error as Error).message}; statuses ${JSON.stringify(await statusCounts(id, quick))}`);
        },
      );
      expect(delivered(path)).toEqual(emitted);
    }, 30_000);
  });

  it('keeps the documented retry schedule for a failing delivery while its endpoint answers others', async () => {
    const owner = uniqueOwner('schedule');
    const path = `/${owner}`;
    const schedule = [300, 600, 900];
    const app = await startTestApp({ webhooks: { retry: { schedule } } });
    try {
      receiver.on(path, (request) => (JSON.parse(request.body).data.poisoned ? { status: 500 } : { status: 200 }));
      await app
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url(path), events: ['*'] })
        .expect(201);
      const { id: poisoned } = await app.publisher.emit('user.created', { poisoned: true }, { ownerId: owner });
      const healthy = setInterval(() => void app.publisher.emit('user.updated', {}, { ownerId: owner }), 50);
      try {
        await waitFor(
          'four attempts of the poisoned event',
          () => receiver.at(path).filter((r) => r.headers['webhook-id'] === poisoned).length === 4,
          10_000,
        );
      } finally {
        clearInterval(healthy);
      }
      const times = receiver
        .at(path)
        .filter((r) => r.headers['webhook-id'] === poisoned)
        .map((r) => r.at);
      schedule.forEach((delay, i) => {
        const gap = times[i + 1] - times[i];
        expect(gap).toBeGreaterThanOrEqual(0.8 * delay); // the jitter is ±20 %
        // The endpoint kept taking the other deliveries in between: the failing one did not shut it out.
        const between = receiver.at(path).filter((r) => r.headers['webhook-id'] !== poisoned && r.at > times[i] && r.at < times[i + 1]);
        expect(between.length).toBeGreaterThan(0);
      });
    } finally {
      await app.close();
    }
  }, 20_000);
});
