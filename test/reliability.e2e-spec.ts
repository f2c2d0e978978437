import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { DataSource, In } from 'typeorm';
import {
  RetentionPurger,
  WEBHOOK_ENTITIES,
  WebhookDeliveryAttemptEntity,
  WebhookDeliveryEntity,
  WebhookEndpointEntity,
  WebhookEventEntity,
  type WebhooksHooks,
} from '../lib/index.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

const DAY = 24 * 60 * 60 * 1_000;

describe('reliability', () => {
  let receiver: TestReceiver;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
  });

  afterAll(() => receiver.close());

  const register = async (t: TestApp, owner: string, path: string) =>
    (
      await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url(path), events: ['*'] })
        .expect(201)
    ).body as { id: string; secret: string };

  describe('failing endpoints and hooks', () => {
    const calls: Array<[string, any]> = [];
    let t: TestApp;
    const hooks: WebhooksHooks = {
      onEndpointDisabled: (event) => void calls.push(['disabled', event]),
      onDeliveryFailed: (event) => void calls.push(['failed', event]),
      onEndpointRecovered: (event) => void calls.push(['recovered', event]),
    };

    beforeAll(async () => {
      t = await startTestApp({
        webhooks: {
          hooks,
          retry: { schedule: [100, 100] },
          delivery: { circuitBreaker: { failuresToOpen: 3 } },
          disable: { afterFailingForMs: 400, minFailures: 4 },
        },
      });
    });

    afterAll(() => t.close());

    it('disables an endpoint that keeps failing for long enough, tells the host, and skips later events', async () => {
      const owner = uniqueOwner();
      const { id } = await register(t, owner, '/always-down');
      receiver.on('/always-down', { status: 502 });
      // three failures in a row open the circuit for a second; the next attempt after that
      // comes more than 400 ms into the failing streak
      for (let n = 0; n < 3; n++) await t.publisher.emit('user.created', { n }, { ownerId: owner });
      const endpoint = await waitFor(
        'the endpoint to be disabled',
        async () => {
          const body = (await t.api(owner).get(`/v1/webhooks/${id}`).expect(200)).body;
          return body.enabled === false && body;
        },
        10_000,
      );
      expect(endpoint.disabled_reason).toMatch(/^failing since \d{4}-.*Z \(\d+ failed attempts\)$/);
      const attempts = receiver.at('/always-down');
      expect(attempts.length).toBeGreaterThanOrEqual(4);
      expect(attempts[attempts.length - 1].at - attempts[0].at).toBeGreaterThanOrEqual(400);
      await waitFor('the hook', () => calls.some(([name, e]) => name === 'disabled' && e.endpointId === id));
      expect(calls.find(([name, e]) => name === 'disabled' && e.endpointId === id)![1]).toEqual({
        endpointId: id,
        ownerId: owner,
        reason: endpoint.disabled_reason,
      });

      await t.publisher.emit('user.updated', {}, { ownerId: owner });
      const rows = (await t.api(owner).get(`/v1/webhooks/${id}/deliveries`).expect(200)).body.data;
      expect(rows[0]).toMatchObject({ event_type: 'user.updated', status: 'skipped' });
    });

    it('does not disable an endpoint that fails only briefly, and reports its recovery', async () => {
      const owner = uniqueOwner();
      const { id } = await register(t, owner, '/blip');
      receiver.on('/blip', (_, index) => (index < 2 ? { status: 500 } : { status: 200 }));
      await t.publisher.emit('user.created', {}, { ownerId: owner });
      await waitFor('the recovery hook', () => calls.some(([name, e]) => name === 'recovered' && e.endpointId === id));
      const recovered = calls.find(([name, e]) => name === 'recovered' && e.endpointId === id)![1];
      expect(recovered).toEqual({ endpointId: id, ownerId: owner, failingSince: expect.any(Date) });
      expect((await t.api(owner).get(`/v1/webhooks/${id}`).expect(200)).body.enabled).toBe(true);
      const row = await t.dataSource.getRepository(WebhookEndpointEntity).findOneByOrFail({ id });
      expect([row.failingSince, row.failureCount]).toEqual([null, 0]);
    });

    it('tells the host when a delivery exhausts its schedule', async () => {
      const owner = uniqueOwner();
      const { id } = await register(t, owner, '/exhaust');
      receiver.on('/exhaust', { status: 400, body: 'bad' });
      const { id: eventId } = await t.publisher.emit('order.paid', { n: 1 }, { ownerId: owner });
      const failed = await waitFor('the failed-delivery hook', () => calls.find(([name, e]) => name === 'failed' && e.endpointId === id));
      expect(failed[1]).toEqual({
        deliveryId: expect.stringMatching(/^dlv_/),
        endpointId: id,
        ownerId: owner,
        eventId,
        eventType: 'order.paid',
        attempts: 3,
        lastError: 'HTTP 400; retry schedule exhausted',
      });
      // three failed attempts: fewer than disable.minFailures, whatever their timing
      expect((await t.api(owner).get(`/v1/webhooks/${id}`).expect(200)).body.enabled).toBe(true);
    });
  });

  it('keeps healthy endpoints delivering while half the endpoints hang', async () => {
    // The hung requests stay open for the whole test: a worker that waited on them would never finish the healthy ones.
    const t = await startTestApp({
      webhooks: {
        delivery: { timeoutMs: 120_000, shutdownGraceMs: 0, concurrency: 20, perEndpointConcurrency: 5 },
        retry: { schedule: [60_000] },
      },
    });
    try {
      const owner = uniqueOwner();
      const hungIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        receiver.on(`/hang-${i}`, { hang: true });
        hungIds.push((await register(t, owner, `/hang-${i}`)).id);
        await register(t, owner, `/healthy-${i}`);
      }
      await t.publisher.emitMany(Array.from({ length: 60 }, (_, n) => ({ type: 'user.created', data: { n }, ownerId: owner })));
      await waitFor('every healthy delivery', () => [0, 1, 2, 3, 4].every((i) => receiver.at(`/healthy-${i}`).length === 60));
      // All 300 landed while every hung request was still open: none of them has ended, so none has an attempt recorded.
      const hungDeliveries = await t.dataSource.getRepository(WebhookDeliveryEntity).findBy({ endpointId: In(hungIds) });
      expect(hungDeliveries).toHaveLength(300);
      expect(hungDeliveries.every((d) => d.status === 'pending' && d.attemptCount === 0)).toBe(true);
      const attempts = t.dataSource.getRepository(WebhookDeliveryAttemptEntity);
      const hungAttempts = await attempts.countBy({ deliveryId: In(hungDeliveries.map((d) => d.id)) });
      expect(hungAttempts).toBe(0);
      const hung = [0, 1, 2, 3, 4].map((i) => receiver.at(`/hang-${i}`).length);
      // each hung endpoint holds at most its slow-start allowance, not the worker
      expect(Math.max(...hung)).toBeLessThanOrEqual(2);
    } finally {
      await t.close();
    }
  });

  it('never stores the plain secret when encryption at rest is on, and still signs with it', async () => {
    const key = randomBytes(32).toString('base64');
    const t = await startTestApp({ webhooks: { security: { allowHttp: true, allowPrivateNetworks: true, encryptionKey: key } } });
    try {
      const owner = uniqueOwner();
      const { id, secret } = await register(t, owner, '/encrypted');
      const { secret: rotated } = (await t.api(owner).post(`/v1/webhooks/${id}/rotate-secret`).expect(200)).body;
      const dump = JSON.stringify(await t.dataSource.getRepository(WebhookEndpointEntity).find());
      for (const plain of [secret, rotated, secret.slice(6), rotated.slice(6)]) expect(dump).not.toContain(plain);
      expect(dump).toContain('enc:v1:');
      expect((await t.api(owner).get(`/v1/webhooks/${id}/secret`).expect(200)).body).toEqual({ secret: rotated });
      await t.publisher.emit('user.created', {}, { ownerId: owner });
      const [request] = await waitFor('the delivery', () => receiver.at('/encrypted').length === 1 && receiver.at('/encrypted'));
      expect(new Webhook(rotated).verify(request.body, request.headers as Record<string, string>)).toBeTruthy();
      expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toBeTruthy();
    } finally {
      await t.close();
    }
  });

  it('purges finished history past the retention window in batches, keeping what is pending', async () => {
    const t = await startTestApp({ webhooks: { retention: { days: 30, batchSize: 7 }, retry: { schedule: [DAY] } } });
    try {
      const owner = uniqueOwner();
      await register(t, owner, '/retained');
      const { id: pendingEndpoint } = await register(t, owner, '/retained-down');
      receiver.on('/retained-down', { status: 500 });
      const emitted = await t.publisher.emitMany(
        Array.from({ length: 20 }, (_, n) => ({ type: 'user.created', data: { n }, ownerId: owner })),
      );
      const deliveries = t.dataSource.getRepository(WebhookDeliveryEntity);
      await waitFor('20 successes', async () => (await deliveries.countBy({ status: 'succeeded' })) === 20);
      const purger = t.app.get(RetentionPurger);
      expect(await purger.purge(Date.now())).toEqual({ deliveries: 0, events: 0 });

      // The failing endpoint keeps being retried meanwhile: what the purge must keep is every attempt recorded before it.
      const attemptRows = t.dataSource.getRepository(WebhookDeliveryAttemptEntity);
      const pendingDeliveries = await deliveries.find({ where: { endpointId: pendingEndpoint } });
      const recordedBefore = await attemptRows.countBy(pendingDeliveries.map((d) => ({ deliveryId: d.id })));
      const finished = await deliveries.find({ where: { status: 'succeeded' } });
      expect(await purger.purge(Date.now() + 31 * DAY)).toEqual({ deliveries: 20, events: 0 });
      const remaining = await deliveries.find({ where: emitted.map((e) => ({ eventId: e.id })) });
      expect(remaining).toHaveLength(20);
      expect(remaining.every((d) => d.endpointId === pendingEndpoint && d.status === 'pending')).toBe(true);
      expect(await t.dataSource.getRepository(WebhookEventEntity).countBy(emitted.map((e) => ({ id: e.id })))).toBe(20);
      const attempts = await t.dataSource.getRepository(WebhookDeliveryAttemptEntity).countBy(remaining.map((d) => ({ deliveryId: d.id })));
      expect(recordedBefore).toBeGreaterThan(0);
      expect(attempts).toBeGreaterThanOrEqual(recordedBefore);
      // The purged deliveries' attempts went with them.
      expect(await attemptRows.countBy(finished.map((d) => ({ deliveryId: d.id })))).toBe(0);

      // once nothing refers to them any more, the events go too
      await t.api(owner).delete(`/v1/webhooks/${pendingEndpoint}`).expect(204);
      expect(await purger.purge(Date.now() + 31 * DAY)).toEqual({ deliveries: 20, events: 20 });
      expect(await t.dataSource.getRepository(WebhookEventEntity).count()).toBe(0);
    } finally {
      await t.close();
    }
  });

  describe('graceful shutdown', () => {
    it('lets an in-flight delivery finish and record before the app closes', async () => {
      const database = await createTestDatabase({ file: true });
      const t = await startTestApp({ database, dropDatabase: false });
      const owner = uniqueOwner();
      await register(t, owner, '/slow-ok');
      receiver.on('/slow-ok', { status: 200, delayMs: 600 });
      await t.publisher.emit('user.created', {}, { ownerId: owner });
      await waitFor('the request to arrive', () => receiver.at('/slow-ok').length === 1);
      await t.close();
      const check = await new DataSource({ ...database.options, entities: WEBHOOK_ENTITIES, synchronize: false } as any).initialize();
      try {
        const [delivery] = await check.getRepository(WebhookDeliveryEntity).find({ where: { eventType: 'user.created' } });
        expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1, leaseToken: null });
      } finally {
        await check.destroy();
        await database.drop();
      }
    });

    it('stops waiting after shutdownGraceMs and leaves the delivery pending for a later retry', async () => {
      const database = await createTestDatabase({ file: true });
      const t = await startTestApp({ database, dropDatabase: false, webhooks: { delivery: { timeoutMs: 120_000, shutdownGraceMs: 300 } } });
      const owner = uniqueOwner();
      await register(t, owner, '/hang-on-close');
      receiver.on('/hang-on-close', { hang: true });
      await t.publisher.emit('user.created', {}, { ownerId: owner });
      await waitFor('the request to arrive', () => receiver.at('/hang-on-close').length === 1);
      await t.close();
      const check = await new DataSource({ ...database.options, entities: WEBHOOK_ENTITIES, synchronize: false } as any).initialize();
      try {
        const [delivery] = await check.getRepository(WebhookDeliveryEntity).find({ where: { eventType: 'user.created' } });
        // Abandoned, not timed out: had close waited for the request, its failure would be recorded as attempt 1.
        expect(delivery).toMatchObject({ status: 'pending', attemptCount: 0, completedAt: null });
        expect(await check.getRepository(WebhookDeliveryAttemptEntity).countBy({ deliveryId: delivery.id })).toBe(0);
      } finally {
        await check.destroy();
        await database.drop();
      }
    });

    it('leaves no open handles behind', async () => {
      const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      const t = await startTestApp();
      const owner = uniqueOwner();
      await register(t, owner, '/handles');
      await t.publisher.emit('user.created', {}, { ownerId: owner });
      await waitFor('the delivery', () => receiver.at('/handles').length === 1);
      await t.close();
      const count = (list: string[]) => list.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r]: (acc[r] ?? 0) + 1 }), {});
      const grown = () => {
        const after = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
        return Object.entries(count(after)).filter(([r, n]) => n > (count(before)[r] ?? 0));
      };
      // Sockets closed by close() are released on a later turn of the event loop; a leak never is.
      await waitFor('the handles to be released', () => grown().length === 0, 5_000).catch(() => undefined);
      expect(grown()).toEqual([]);
    });
  });
});
