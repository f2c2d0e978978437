import { WebhookDeliveryEntity } from '../lib/index.js';
import { PrivateRedis } from './faults/support/private-redis.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { startTestApp, testWebhookOptions, uniqueOwner, type TestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/**
 * Work that Redis lost, or that a stopping worker gives back, must reach a worker without waiting for
 * the reconciler's stale sweep (minutes by default). Each test here turns the stale sweep off
 * (`staleAfterMs` of a day), so only the path under test can deliver, and runs its own redis-server.
 */
describe('re-queueing without the stale sweep', () => {
  const NO_STALE_SWEEP = { intervalMs: 250, staleAfterMs: 24 * 60 * 60 * 1_000 };
  const apps: TestApp[] = [];
  let receiver: TestReceiver;
  let redis: PrivateRedis;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
    redis = await PrivateRedis.start();
  });

  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
    await redis.stop();
    await receiver.close();
  });

  async function start(options: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
    const app = await startTestApp({ redis: redis.url, ...options });
    apps.push(app);
    return app;
  }

  function requestsById(path: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const request of receiver.at(path)) {
      const id = JSON.parse(request.body).id as string;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  it('queues every pending delivery again when Redis was flushed, through the epoch marker alone', async () => {
    const logger = new CapturingLogger();
    // Each delivery fails once, so that its retry waits in Redis as a delayed job when the flush comes.
    const t = await start({ logger, webhooks: { retry: { schedule: [5_000] }, reconciler: NO_STALE_SWEEP } });
    const owner = uniqueOwner();
    // Four endpoints, two events: eight deliveries, two per endpoint, as many as an endpoint starts with
    // in flight, and too few failures to open a circuit.
    const paths = ['/epoch-1', '/epoch-2', '/epoch-3', '/epoch-4'];
    const failedOnce = new Set<string>();
    for (const path of paths) {
      receiver.on(path, (request) => {
        const key = `${path} ${JSON.parse(request.body).id}`;
        if (failedOnce.has(key)) return { status: 200 };
        failedOnce.add(key);
        return { status: 500 };
      });
      await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url(path), events: ['*'] })
        .expect(201);
    }
    const ids = (await t.publisher.emitMany([0, 1].map((n) => ({ type: 'order.paid', data: { n }, ownerId: owner })))).map((e) => e.id);

    await waitFor('the eight retries waiting in Redis', async () => (await redis.queued(t.queueName)).deliveries === 8);
    const deliveries = t.dataSource.getRepository(WebhookDeliveryEntity);
    expect(await deliveries.countBy({ status: 'pending', attemptCount: 1 })).toBe(8);
    const lost = await redis.flushAll(t.queueName);
    expect(lost.deliveries).toBe(8);

    await waitFor('every delivery recorded as succeeded', async () => (await deliveries.countBy({ status: 'succeeded' })) === 8, 20_000);
    for (const path of paths) expect([...requestsById(path).entries()].sort()).toEqual(ids.map((id) => [id, 2]).sort());
    expect(logger.find('log', 'WebhookReconciler', 'Queued 8 deliveries again')).toHaveLength(1);
    expect(await redis.command('EXISTS', `bull:${t.queueName}:reconciler:epoch`)).toBe(1);
  });

  it('hands a delivery claimed but not started back to Redis when its worker stops, for another worker', async () => {
    const database = await createTestDatabase({ file: true });
    const queueName = testWebhookOptions().queueName;
    const logger = new CapturingLogger();
    const api = await start({ database, webhooks: { queueName, processor: false, reconciler: NO_STALE_SWEEP } });
    // One request slot: the first delivery holds it, hung; the second is claimed and waits for it.
    const stopping = await start({
      database,
      dropDatabase: false,
      logger,
      webhooks: {
        queueName,
        controllers: false,
        reconciler: NO_STALE_SWEEP,
        delivery: { concurrency: 1, timeoutMs: 10_000, shutdownGraceMs: 200 },
      },
    });
    const owner = uniqueOwner();
    receiver.on('/hand-back', (_request, index) => (index === 0 ? { hang: true } : { status: 200 }));
    await api
      .api(owner)
      .post('/v1/webhooks')
      .send({ url: receiver.url('/hand-back'), events: ['*'] })
      .expect(201);
    const ids = (await api.publisher.emitMany([0, 1].map((n) => ({ type: 'order.paid', data: { n }, ownerId: owner })))).map((e) => e.id);
    const deliveries = api.dataSource.getRepository(WebhookDeliveryEntity);
    const leased = () =>
      deliveries
        .createQueryBuilder('d')
        .where('d.status = :pending AND d.lease_until > :now', { pending: 'pending', now: Date.now() })
        .getCount();
    await waitFor('the first request to hang at the receiver', () => receiver.at('/hand-back').length === 1);
    await waitFor('both deliveries claimed by the worker', async () => (await leased()) === 2);
    const hung = JSON.parse(receiver.at('/hand-back')[0].body).id as string;
    const waiting = ids.find((id) => id !== hung)!;

    apps.splice(apps.indexOf(stopping), 1);
    await stopping.close();

    await start({ database, dropDatabase: false, webhooks: { queueName, controllers: false, reconciler: NO_STALE_SWEEP } });
    await waitFor('the handed-back delivery at the receiver', () => requestsById('/hand-back').get(waiting) === 1, 15_000);
    await waitFor('it is recorded as succeeded', async () => (await deliveries.countBy({ eventId: waiting, status: 'succeeded' })) === 1);
    // Redis took it while the worker stopped: nothing was left behind in the stopped process's memory.
    expect(logger.find('warn', 'WebhookDeliveryQueue')).toEqual([]);
    // The hung request was abandoned at the end of the grace period: it waits under its lease for the stale sweep.
    expect(await deliveries.countBy({ eventId: hung, status: 'pending' })).toBe(1);
  });
});
