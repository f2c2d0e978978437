import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  DeliveryReconciler,
  RetentionPurger,
  WebhookDeliveryEntity,
  WebhookEventEntity,
  type PurgeCounts,
  type WebhooksModuleRootOptions,
} from '../lib/index.js';
import { newId } from '../lib/utils/id.js';
import { freePort } from './faults/support/free-port.js';
import { REDIS_URL, startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

const DAY = 24 * 60 * 60 * 1_000;

/** Two worker instances of one app: the same database, Redis and queue. */
async function startPair(database: TestDatabase, webhooks: Partial<WebhooksModuleRootOptions>): Promise<[TestApp, TestApp]> {
  const shared = { ...webhooks, queueName: `wh-test-${randomBytes(5).toString('hex')}` };
  const first = await startTestApp({ database, dropDatabase: false, webhooks: shared });
  try {
    return [first, await startTestApp({ database, dropDatabase: false, webhooks: shared })];
  } catch (error) {
    await first.close();
    throw error;
  }
}

/** Closes what is still open, then drops the shared database once. */
async function closeAll(apps: TestApp[], database: TestDatabase, closed: Set<TestApp>): Promise<void> {
  for (const app of apps) if (!closed.has(app)) await app.close();
  await database.drop();
}

async function lockHolder(key: string): Promise<string | null> {
  const redis = new Redis(REDIS_URL);
  try {
    return await redis.get(key);
  } finally {
    redis.disconnect();
  }
}

describe('maintenance passes across instances', () => {
  it('purges on its interval, from one elected instance at a time, at most 100 batches of each kind per pass', async () => {
    const database = await createTestDatabase({ file: true });
    // A batch of one row makes the per-pass cap 100 rows of each kind; the lock lives 2 intervals.
    const apps = await startPair(database, { retention: { days: 1, intervalMs: 1_000, batchSize: 1 } });
    const closed = new Set<TestApp>();
    try {
      // Every pass an instance runs after winning the lock, in order, with what it deleted.
      const passes: Array<{ instance: number } & PurgeCounts> = [];
      apps.forEach((app, instance) => {
        const purger = app.app.get(RetentionPurger);
        const purge = purger.purge.bind(purger);
        purger.purge = async (now?: number) => {
          const counts = await purge(now);
          passes.push({ instance, ...counts });
          return counts;
        };
      });

      // Finished history from 40 days ago, committed at once so that no pass sees part of it.
      const seed = async (count: number, via: TestApp) => {
        const old = Date.now() - 40 * DAY;
        const owner = uniqueOwner();
        const events = Array.from({ length: count }, () => ({
          id: newId('evt', old),
          ownerId: owner,
          type: 'user.created',
          body: '{}',
          idempotencyKey: null,
          createdAt: old,
        }));
        const deliveries = events.map((event) => ({
          id: newId('dlv', old),
          eventId: event.id,
          eventType: event.type,
          endpointId: newId('wh', old),
          status: 'succeeded' as const,
          attemptCount: 1,
          nextAttemptAt: null,
          leaseToken: null,
          leaseUntil: null,
          lastStatusCode: 200,
          lastError: null,
          createdAt: old,
          updatedAt: old,
          completedAt: old,
        }));
        await via.dataSource.transaction(async (manager) => {
          await manager.insert(WebhookEventEntity, events);
          await manager.insert(WebhookDeliveryEntity, deliveries);
        });
        return owner;
      };
      const remaining = (owner: string, via: TestApp) => via.dataSource.getRepository(WebhookEventEntity).countBy({ ownerId: owner });

      // Short passes, renewed every interval: the instance that won the lock keeps it.
      const leader = (await waitFor('three passes', () => passes.length >= 3 && passes))[0].instance;
      expect(passes.filter((pass) => pass.instance !== leader)).toEqual([]);

      const owner = await seed(130, apps[0]);
      await waitFor('the old history to be purged by the periodic passes', async () => (await remaining(owner, apps[0])) === 0, 30_000);
      expect(await apps[0].dataSource.getRepository(WebhookDeliveryEntity).count()).toBe(0);

      const working = passes.filter((pass) => pass.deliveries + pass.events > 0);
      expect(working.map(({ deliveries, events }) => [deliveries, events])).toEqual([
        [100, 100],
        [30, 30],
      ]);
      // (Which instance ran them is not asserted: a pass longer than the lock's two intervals, as on a
      // loaded test machine, lets the other instance take over, as it would after a crash.)

      const lockKey = `bull:${apps[0].queueName}:retention:lock`;
      const holderToken = await lockHolder(lockKey);
      const holder = apps.findIndex(
        (app) => (app.app.get(RetentionPurger) as unknown as { lock: { token: string } }).lock.token === holderToken,
      );
      expect(holder).toBeGreaterThanOrEqual(0);
      await apps[holder].app.close();
      closed.add(apps[holder]);
      // A clean shutdown gives the lock up at once (the other instance may have taken it since), instead
      // of leaving it to expire.
      expect(await lockHolder(lockKey)).not.toBe(holderToken);
      const survivor = apps[1 - holder];
      const later = await seed(3, survivor);
      await waitFor('the other instance to take over', async () => (await remaining(later, survivor)) === 0, 30_000);
      expect(passes.filter((pass) => pass.instance !== holder && pass.deliveries === 3)).toHaveLength(1);
    } finally {
      await closeAll(apps, database, closed);
    }
  });

  it('elects one reconciler per interval, and it queues a committed delivery whose job never reached Redis', async () => {
    const receiver = await TestReceiver.start();
    const database = await createTestDatabase({ file: true });
    const webhooks = { retention: false as const, reconciler: { intervalMs: 200, staleAfterMs: 0 } };
    const apps = await startPair(database, webhooks);
    const closed = new Set<TestApp>();
    try {
      // The passes that won the lock: only they look for deliveries to queue again.
      const elected = [0, 0];
      const requeued: string[][] = [[], []];
      apps.forEach((app, instance) => {
        const reconciler = app.app.get(DeliveryReconciler) as unknown as Record<string, (...args: unknown[]) => Promise<number>>;
        for (const method of ['requeueStale', 'requeueAllPending']) {
          const original = reconciler[method].bind(reconciler);
          reconciler[method] = async () => {
            elected[instance]++;
            return original();
          };
        }
        const requeue = reconciler.requeue.bind(reconciler);
        reconciler.requeue = async (rows: unknown) => {
          requeued[instance].push(...(rows as Array<{ id: string }>).map((row) => row.id));
          return requeue(rows);
        };
      });
      await waitFor('five elected passes', () => elected[0] + elected[1] >= 5);
      const leader = elected[0] > 0 ? 0 : 1;
      expect(elected[1 - leader]).toBe(0);

      // An API instance whose Redis is unreachable commits the delivery but cannot queue it, then stops.
      const deadRedis = {
        host: '127.0.0.1',
        port: await freePort(),
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      };
      const emitter = await startTestApp({
        database,
        dropDatabase: false,
        redis: deadRedis,
        webhooks: { ...webhooks, queueName: apps[0].queueName, processor: false, rateLimit: false },
      });
      const owner = uniqueOwner();
      const path = `/orphaned-${owner}`;
      let event: { id: string };
      try {
        await emitter
          .api(owner)
          .post('/v1/webhooks')
          .send({ url: receiver.url(path), events: ['*'] })
          .expect(201);
        event = await emitter.publisher.emit('user.created', {}, { ownerId: owner });
      } finally {
        await emitter.close();
      }
      const [orphan] = await apps[0].dataSource.getRepository(WebhookDeliveryEntity).findBy({ eventId: event.id });
      expect(orphan).toMatchObject({ status: 'pending', leaseToken: null });

      const [request] = await waitFor('the orphaned delivery at the receiver', () => receiver.at(path).length > 0 && receiver.at(path));
      expect(JSON.parse(request.body).id).toBe(event.id);
      expect(requeued[leader]).toContain(orphan.id);
      expect(requeued[1 - leader]).toEqual([]);
      expect(elected[1 - leader]).toBe(0);
      await waitFor('the delivery recorded', async () => {
        const row = await apps[0].dataSource.getRepository(WebhookDeliveryEntity).findOneByOrFail({ id: orphan.id });
        return row.status === 'succeeded';
      });
    } finally {
      await closeAll(apps, database, closed);
      await receiver.close();
    }
  });
});
