import { EmitFailedError, WebhookDeliveryEntity, WebhookEventEntity, type WebhooksModuleRootOptions } from '../../lib/index.js';
import { startTestApp, testWebhookOptions, uniqueOwner, type TestApp } from '../support/test-app.js';
import type { TestDatabase } from '../support/test-database.js';
import { TestReceiver } from '../support/test-receiver.js';
import { sleep, waitFor } from '../support/wait-for.js';
import { createFaultDatabase, serverAddress, throughPort } from './support/fault-database.js';
import { freePort } from './support/free-port.js';
import { PrivateRedis } from './support/private-redis.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { WorkerProcess } from './support/worker-process.js';

/** Short timers so that recovery happens within a test's patience. */
const FAULT_OPTIONS: Partial<WebhooksModuleRootOptions> = {
  retry: { schedule: [200, 500, 1_000, 2_000, 4_000, 8_000] },
  delivery: { timeoutMs: 2_000 },
  reconciler: { intervalMs: 250, staleAfterMs: 2_000 },
};

const BURST = 2_000;

/** Deliveries the receiver saw, by event id: loss is an event never seen, a duplicate one seen twice. */
function tally(receiver: TestReceiver, path: string) {
  const requests = receiver.at(path);
  const unique = new Set(requests.map((r) => JSON.parse(r.body).id as string));
  return { received: requests.length, unique: unique.size, duplicates: requests.length - unique.size };
}

async function emitBurst(t: TestApp, ownerId: string, total: number, onBatch?: (sent: number) => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  for (let sent = 0; sent < total; sent += 50) {
    const batch = await t.publisher.emitMany(Array.from({ length: 50 }, (_, i) => ({ type: 'order.paid', data: { n: sent + i }, ownerId })));
    ids.push(...batch.map((e) => e.id));
    await onBatch?.(sent + 50);
  }
  return ids;
}

/**
 * Waits until every event reached the receiver and every delivery row succeeded, reports the
 * duplicates, and fails on any loss.
 */
async function expectNothingLost(t: TestApp, receiver: TestReceiver, path: string, ids: string[], what: string): Promise<void> {
  await waitFor(`all ${ids.length} events at the receiver`, () => tally(receiver, path).unique === ids.length, 90_000);
  await waitFor('every delivery marked succeeded', () => allSucceeded(t, ids), 30_000);
  const result = tally(receiver, path);
  console.log(`${what}: ${result.unique}/${ids.length} events arrived, ${result.duplicates} duplicates, 0 lost`);
  expect(result.unique).toBe(ids.length);
}

async function allSucceeded(t: TestApp, eventIds: string[]): Promise<boolean> {
  const pending = await t.dataSource.getRepository(WebhookDeliveryEntity).createQueryBuilder('d').where('d.status <> :ok', { ok: 'succeeded' }).getCount();
  const total = await t.dataSource.getRepository(WebhookDeliveryEntity).count();
  return pending === 0 && total === eventIds.length;
}

describe('delivery guarantees under faults', () => {
  let receiver: TestReceiver;
  let redis: PrivateRedis;
  let database: TestDatabase;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
    redis = await PrivateRedis.start();
    database = await createFaultDatabase();
  });

  afterEach(async () => {
    await receiver.close();
    await redis.stop();
    await database.drop();
  });

  it(`loses nothing when Redis is flushed in the middle of a ${BURST}-event burst`, async () => {
    const t = await startTestApp({ database, dropDatabase: false, redis: redis.url, webhooks: FAULT_OPTIONS });
    try {
      const owner = uniqueOwner();
      await t.api(owner).post('/v1/webhooks').send({ url: receiver.url('/flush'), events: ['*'] }).expect(201);
      let flushedAt = -1;
      const ids = await emitBurst(t, owner, BURST, async (sent) => {
        if (flushedAt < 0 && sent >= BURST / 2) {
          await waitFor('some deliveries before the flush', () => receiver.at('/flush').length >= 200);
          flushedAt = receiver.at('/flush').length;
          await redis.command('FLUSHALL');
        }
      });
      expect(ids).toHaveLength(BURST);
      await expectNothingLost(t, receiver, '/flush', ids, `FLUSHALL after ${flushedAt} deliveries`);
    } finally {
      await t.close();
    }
  });

  it(`loses nothing when a worker is killed with SIGKILL mid-burst and another starts`, async () => {
    const emitter = await startTestApp({ database, dropDatabase: false, redis: redis.url, webhooks: { ...FAULT_OPTIONS, processor: false } });
    const worker = { database: database.options, redisUrl: redis.url, webhooks: { ...testWebhookOptions(FAULT_OPTIONS), queueName: emitter.queueName, authenticate: undefined } };
    let first: WorkerProcess | undefined;
    let second: WorkerProcess | undefined;
    try {
      first = await WorkerProcess.start(worker);
      const owner = uniqueOwner();
      await emitter.api(owner).post('/v1/webhooks').send({ url: receiver.url('/killed'), events: ['*'] }).expect(201);
      let killedAt = -1;
      const ids = await emitBurst(emitter, owner, BURST, async (sent) => {
        if (killedAt < 0 && sent >= BURST / 2) {
          await waitFor('some deliveries before the kill', () => receiver.at('/killed').length >= 300);
          await first!.kill();
          killedAt = receiver.at('/killed').length;
          second = await WorkerProcess.start(worker);
        }
      });
      expect(ids).toHaveLength(BURST);
      await expectNothingLost(emitter, receiver, '/killed', ids, `kill -9 after ${killedAt} deliveries`);
    } finally {
      await first?.kill();
      await second?.stop();
      await emitter.close();
    }
  });

  it(`loses nothing when a process that emits and delivers is killed with SIGKILL, leases on its own emits included`, async () => {
    const api = await startTestApp({ database, dropDatabase: false, redis: redis.url, webhooks: { ...FAULT_OPTIONS, processor: false } });
    const owner = uniqueOwner();
    const worker = { database: database.options, redisUrl: redis.url, webhooks: { ...testWebhookOptions(FAULT_OPTIONS), queueName: api.queueName, authenticate: undefined } };
    let host: WorkerProcess | undefined;
    let second: WorkerProcess | undefined;
    try {
      await api.api(owner).post('/v1/webhooks').send({ url: receiver.url('/host-killed'), events: ['*'] }).expect(201);
      host = await WorkerProcess.start({ ...worker, emit: { ownerId: owner, type: 'order.paid', count: 2 * BURST, pauseMs: 25 } });
      await waitFor('some deliveries before the kill', () => receiver.at('/host-killed').length >= 300);
      await host.kill();
      const killedAt = receiver.at('/host-killed').length;
      const deliveries = api.dataSource.getRepository(WebhookDeliveryEntity);
      const leased = await deliveries.createQueryBuilder('d').where('d.status = :pending AND d.lease_token IS NOT NULL', { pending: 'pending' }).getCount();
      const stored = await deliveries.count();
      // How many went through Redis depends on how often its worker had room; the local path itself is
      // tested in local-handoff.e2e-spec.ts, the loss of what a dead process held here.
      const jobs = Number(await redis.command('GET', `bull:${api.queueName}:id`));
      expect(leased).toBeGreaterThan(0);
      second = await WorkerProcess.start(worker);
      const ids = (await api.dataSource.getRepository(WebhookEventEntity).find({ select: { id: true }, where: { ownerId: owner } })).map((event) => event.id);
      expect(ids).toHaveLength(stored);
      await expectNothingLost(api, receiver, '/host-killed', ids, `kill -9 of a host emitting and delivering after ${killedAt} deliveries (${stored} stored, ${leased} leased to it, ${jobs} Redis jobs)`);
    } finally {
      await host?.kill();
      await second?.stop();
      await api.close();
    }
  });

  it('repairs a commit that never reached Redis (the emitter died, or Redis was away, before queueing)', async () => {
    // Nothing listens there: every enqueue fails at once, as if the process had died right after commit.
    const deadRedis = { host: '127.0.0.1', port: await freePort(), maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null };
    const emitter = await startTestApp({ database, dropDatabase: false, redis: deadRedis, webhooks: { ...FAULT_OPTIONS, processor: false, rateLimit: false } });
    const owner = uniqueOwner();
    let ids: string[];
    try {
      await emitter.api(owner).post('/v1/webhooks').send({ url: receiver.url('/orphaned'), events: ['*'] }).expect(201);
      ids = (await emitter.publisher.emitMany(Array.from({ length: 20 }, (_, n) => ({ type: 'user.created', data: { n }, ownerId: owner })))).map((e) => e.id);
      expect(await emitter.dataSource.getRepository(WebhookDeliveryEntity).countBy({ status: 'pending' })).toBe(20);
    } finally {
      await emitter.close();
    }
    const worker = await startTestApp({ database, dropDatabase: false, redis: redis.url, webhooks: FAULT_OPTIONS });
    try {
      await waitFor('the orphaned deliveries to arrive', () => tally(receiver, '/orphaned').unique === 20, 30_000);
      await waitFor('every delivery marked succeeded', () => allSucceeded(worker, ids), 10_000);
    } finally {
      await worker.close();
    }
  });

  it('resumes delivery when the database comes back after an outage during a burst', async () => {
    const proxy = await TcpProxy.start(serverAddress(database.options));
    const emitter = await startTestApp({ database, dropDatabase: false, redis: redis.url, webhooks: { ...FAULT_OPTIONS, processor: false } });
    const worker = await startTestApp({
      database: { ...database, options: throughPort(database.options, proxy.port) },
      dropDatabase: false,
      redis: redis.url,
      webhooks: { ...FAULT_OPTIONS, queueName: emitter.queueName },
    });
    try {
      const owner = uniqueOwner();
      await emitter.api(owner).post('/v1/webhooks').send({ url: receiver.url('/outage'), events: ['*'] }).expect(201);
      let cutAt = -1;
      const ids = await emitBurst(emitter, owner, 600, async (sent) => {
        if (cutAt < 0 && sent >= 300) {
          await waitFor('some deliveries before the outage', () => receiver.at('/outage').length >= 100);
          await proxy.cut();
          cutAt = receiver.at('/outage').length;
        }
      });
      await sleep(3_000);
      const duringOutage = receiver.at('/outage').length;
      await proxy.restore();
      expect(ids).toHaveLength(600);
      await expectNothingLost(emitter, receiver, '/outage', ids, `database cut after ${cutAt} deliveries (${duringOutage} by the end of the 3 s outage)`);
    } finally {
      await proxy.restore();
      await worker.close();
      await emitter.close();
      await proxy.cut();
    }
  });

  it('rejects emit with EmitFailedError while the database is down and leaves nothing behind', async () => {
    const proxy = await TcpProxy.start(serverAddress(database.options));
    const app = await startTestApp({
      database: { ...database, options: throughPort(database.options, proxy.port) },
      dropDatabase: false,
      redis: redis.url,
      webhooks: { ...FAULT_OPTIONS, processor: false },
    });
    try {
      const owner = uniqueOwner();
      await app.api(owner).post('/v1/webhooks').send({ url: receiver.url('/down-at-emit'), events: ['*'] }).expect(201);
      const queue = `bull:${app.queueName}:wait`;
      const queuedBefore = await redis.command('LLEN', queue);
      await proxy.cut();
      const error = await app.publisher.emit('user.created', { n: 1 }, { ownerId: owner }).catch((e) => e);
      expect(error).toBeInstanceOf(EmitFailedError);
      expect(error.message).toMatch(/^Webhook event was not stored: /);
      await proxy.restore();
      expect(await redis.command('LLEN', queue)).toBe(queuedBefore);
      await waitFor('the database to answer again', () => app.dataSource.getRepository(WebhookEventEntity).count().then(() => true), 20_000);
      expect(await app.dataSource.getRepository(WebhookEventEntity).countBy({ ownerId: owner })).toBe(0);
      expect(await app.dataSource.getRepository(WebhookDeliveryEntity).count()).toBe(0);
      const { id } = await app.publisher.emit('user.created', { n: 2 }, { ownerId: owner });
      expect(id).toMatch(/^evt_/);
    } finally {
      await proxy.restore();
      await app.close();
      await proxy.cut();
    }
  });
});
