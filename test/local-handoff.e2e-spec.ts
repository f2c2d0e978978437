import { Redis } from 'ioredis';
import { IsNull } from 'typeorm';
import { WebhookDeliveryEntity, type WebhooksModuleRootOptions } from '../lib/index.js';
import { REDIS_URL, startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/**
 * Where the emitting process also delivers (`processor: true`, the default), deliveries are written
 * already leased to its own worker and start without a Redis job; what a caller's transaction writes
 * is claimed by that worker once it commits. What the worker has no room for, and what a process
 * without a worker emits, go through Redis.
 */
describe('local hand-off from emit to the worker in the same process', () => {
  let receiver: TestReceiver;
  let redis: Redis;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    redis.disconnect();
    await receiver.close();
  });

  async function start(webhooks: Partial<WebhooksModuleRootOptions> = {}): Promise<TestApp> {
    const app = await startTestApp({ webhooks });
    apps.push(app);
    return app;
  }

  /** Bull numbers jobs from a counter that only `add` moves: how many jobs this queue was ever given. */
  const jobsEverAdded = async (t: TestApp) => Number((await redis.get(`bull:${t.queueName}:id`)) ?? 0);

  const rows = (t: TestApp, endpointId: string) => t.dataSource.getRepository(WebhookDeliveryEntity).findBy({ endpointId });

  async function register(t: TestApp, ownerId: string, path: string): Promise<string> {
    return (
      await t
        .api(ownerId)
        .post('/v1/webhooks')
        .send({ url: receiver.url(path), events: ['*'] })
        .expect(201)
    ).body.id;
  }

  it('writes the delivery leased to this process and sends it without a Redis job', async () => {
    const t = await start();
    const owner = uniqueOwner();
    receiver.on('/local', { delayMs: 400 });
    const endpointId = await register(t, owner, '/local');

    const { id: eventId } = await t.publisher.emit('user.created', { user_id: 'u1' }, { ownerId: owner });
    await waitFor('the request at the receiver', () => receiver.at('/local').length === 1);
    const [inFlight] = await rows(t, endpointId);
    expect(inFlight).toMatchObject({ eventId, status: 'pending', attemptCount: 0 });
    expect(inFlight.leaseToken).toEqual(expect.any(String));
    expect(inFlight.leaseUntil).toBeGreaterThan(Date.now());

    const done = await waitFor('the delivery to succeed', async () =>
      (await rows(t, endpointId)).find((row) => row.status === 'succeeded'),
    );
    expect(done).toMatchObject({ attemptCount: 1, lastStatusCode: 200, leaseToken: null, leaseUntil: null });
    expect(await jobsEverAdded(t)).toBe(0);
    expect(receiver.at('/local')).toHaveLength(1);
  });

  it('re-sends, once its lease has expired, a delivery handed off to a process that went away before the answer', async () => {
    const database = await createTestDatabase({ file: true });
    // The shutdown grace is shorter than the request timeout: the first attempt is abandoned unrecorded.
    const options = { delivery: { timeoutMs: 2_000, shutdownGraceMs: 50 }, reconciler: { intervalMs: 100, staleAfterMs: 0 } };
    const first = await startTestApp({ database, dropDatabase: false, webhooks: options });
    const owner = uniqueOwner();
    receiver.on('/abandoned', (_request, index) => (index === 0 ? { hang: true } : {}));
    const endpointId = await register(first, owner, '/abandoned');

    await first.publisher.emit('user.created', { user_id: 'u3' }, { ownerId: owner });
    await waitFor('the first request', () => receiver.at('/abandoned').length === 1);
    const [leased] = await rows(first, endpointId);
    expect(leased.leaseToken).toEqual(expect.any(String));
    expect(await jobsEverAdded(first)).toBe(0);
    await first.close();

    const second = await startTestApp({ database, webhooks: { ...options, queueName: first.queueName } });
    apps.push(second);
    const done = await waitFor(
      'the delivery to succeed',
      async () => (await rows(second, endpointId)).find((row) => row.status === 'succeeded'),
      30_000,
    );
    expect(done.attemptCount).toBe(1);
    const requests = receiver.at('/abandoned');
    expect(requests).toHaveLength(2);
    expect(requests[1].headers['webhook-id']).toBe(requests[0].headers['webhook-id']);
    expect(requests[1].at).toBeGreaterThanOrEqual(leased.leaseUntil!);
  });

  it('sends what the worker has no room for through Redis, every delivery once', async () => {
    // concurrency 2: room for 4 claimed-but-not-started deliveries, so most of 40 must overflow.
    const t = await start({ delivery: { concurrency: 2, timeoutMs: 2_000 } });
    const owner = uniqueOwner();
    receiver.on('/overflow', { delayMs: 20 });
    const endpointId = await register(t, owner, '/overflow');

    const events = await t.publisher.emitMany(Array.from({ length: 40 }, (_, n) => ({ type: 'order.paid', data: { n }, ownerId: owner })));
    await waitFor(
      'all 40 deliveries to succeed',
      async () => (await rows(t, endpointId)).every((row) => row.status === 'succeeded'),
      30_000,
    );
    const received = receiver.at('/overflow').map((request) => JSON.parse(request.body).id);
    expect(received.sort()).toEqual(events.map((event) => event.id).sort());
    expect(await jobsEverAdded(t)).toBeGreaterThanOrEqual(1);
  });

  it("has the local worker claim what a caller's transaction wrote once it commits, without a Redis job", async () => {
    const t = await start();
    const owner = uniqueOwner();
    const endpointId = await register(t, owner, '/in-transaction');

    await t.dataSource.transaction(async (manager) => {
      await t.publisher.emit('user.created', { user_id: 'u2' }, { ownerId: owner, manager });
      expect(await manager.countBy(WebhookDeliveryEntity, { endpointId, leaseToken: IsNull() })).toBe(1); // not leased before commit
    });
    await waitFor('the delivery to succeed', async () => (await rows(t, endpointId))[0]?.status === 'succeeded');
    expect(await jobsEverAdded(t)).toBe(0);
  });

  it("queues in Redis, at commit, what a caller's transaction wrote beyond the local worker's room", async () => {
    const t = await start({ delivery: { concurrency: 2, timeoutMs: 2_000 } });
    const owner = uniqueOwner();
    const endpointId = await register(t, owner, '/in-transaction-overflow');

    const events = await t.dataSource.transaction((manager) =>
      t.publisher.emitMany(
        Array.from({ length: 10 }, (_, n) => ({ type: 'order.paid', data: { n }, ownerId: owner })),
        { manager },
      ),
    );
    await waitFor(
      'all 10 deliveries to succeed',
      async () => (await rows(t, endpointId)).every((row) => row.status === 'succeeded'),
      30_000,
    );
    const received = receiver.at('/in-transaction-overflow').map((request) => JSON.parse(request.body).id);
    expect(received.sort()).toEqual(events.map((event) => event.id).sort());
    expect(await jobsEverAdded(t)).toBeGreaterThanOrEqual(1); // room for 4: the rest went through Redis
  });

  it('leaves every delivery to Redis, unleased, where the process runs no worker', async () => {
    const t = await start({ processor: false });
    const owner = uniqueOwner();
    const endpointId = await register(t, owner, '/no-worker');

    await t.publisher.emitMany(Array.from({ length: 3 }, (_, n) => ({ type: 'order.paid', data: { n }, ownerId: owner })));
    const written = await rows(t, endpointId);
    expect(written).toHaveLength(3);
    for (const row of written) expect(row).toMatchObject({ status: 'pending', leaseToken: null, leaseUntil: null });
    expect(await jobsEverAdded(t)).toBe(1);
    expect(await redis.llen(`bull:${t.queueName}:wait`)).toBe(1);
  });
});
