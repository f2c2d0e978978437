import { Webhook } from 'standardwebhooks';
import { WebhookDeliveryEntity, WebhookEndpointEntity } from '../lib/index.js';
import { queuedJobs } from './support/queue-state.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver, type ReceivedRequest } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/** Long enough to change the endpoint between a failed first attempt and its retry, short enough to wait for. */
const RETRY_MS = 700;
const OVERLAP_MS = 2_000;

describe('what happens to deliveries when their endpoint changes', () => {
  let receiver: TestReceiver;
  let t: TestApp;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp({ webhooks: { retry: { schedule: [RETRY_MS] }, signing: { rotationOverlapMs: OVERLAP_MS } } });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const register = async (owner: string, path: string) =>
    (
      await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url(path), events: ['*'] })
        .expect(201)
    ).body as { id: string; secret: string };

  const deliveriesOf = (endpointId: string) =>
    t.dataSource.getRepository(WebhookDeliveryEntity).find({ where: { endpointId }, order: { id: 'ASC' } });

  /** Every delivery of the endpoint failed its first attempt and waits, pending, for its retry. */
  const waitingForRetry = (endpointId: string, count: number) =>
    waitFor(`${count} deliveries waiting for their retry`, async () => {
      const rows = await deliveriesOf(endpointId);
      return (
        rows.length === count && rows.every((row) => row.status === 'pending' && row.attemptCount === 1 && row.leaseToken === null) && rows
      );
    });

  it('skips deliveries already waiting for a retry once the endpoint is disabled, and sends them no more', async () => {
    const owner = uniqueOwner();
    const path = `/disabled-while-due-${owner}`;
    receiver.on(path, { status: 500 });
    const { id } = await register(owner, path);
    await t.publisher.emitMany([1, 2, 3].map((n) => ({ type: 'user.created', data: { n }, ownerId: owner })));
    await waitingForRetry(id, 3);

    await t.api(owner).patch(`/v1/webhooks/${id}`).send({ enabled: false }).expect(200);

    // skipped is terminal and only written when the retry came due and was claimed
    const rows = await waitFor('every delivery skipped', async () => {
      const found = await deliveriesOf(id);
      return found.every((row) => row.status === 'skipped') && found;
    });
    for (const row of rows)
      expect(row).toMatchObject({ attemptCount: 1, lastError: 'endpoint disabled', nextAttemptAt: null, leaseToken: null });
    expect(rows.every((row) => row.completedAt !== null)).toBe(true);
    expect(receiver.at(path)).toHaveLength(3);
  });

  it('cancels a delivery waiting for its retry when the endpoint is deleted, and its retry sends nothing', async () => {
    const owner = uniqueOwner();
    const path = `/deleted-while-due-${owner}`;
    receiver.on(path, { status: 500 });
    const { id } = await register(owner, path);
    await t.publisher.emit('user.created', {}, { ownerId: owner });
    const [waiting] = await waitingForRetry(id, 1);

    await t.api(owner).delete(`/v1/webhooks/${id}`).expect(204);
    expect(await t.dataSource.getRepository(WebhookDeliveryEntity).findOneByOrFail({ id: waiting.id })).toMatchObject({
      status: 'cancelled',
      lastError: 'endpoint deleted',
      nextAttemptAt: null,
    });

    // The retry's job has come due and been taken once the queue is empty.
    await waitFor('the retry job to be taken', async () => (await queuedJobs(t.queueName)) === 0);
    expect(await t.dataSource.getRepository(WebhookDeliveryEntity).findOneByOrFail({ id: waiting.id })).toMatchObject({
      status: 'cancelled',
      attemptCount: 1,
    });
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('cancels at send time a pending delivery whose endpoint row is gone (removed by the host outside the API)', async () => {
    const owner = uniqueOwner();
    const path = `/vanished-${owner}`;
    receiver.on(path, { status: 500 });
    const { id } = await register(owner, path);
    await t.publisher.emit('user.created', {}, { ownerId: owner });
    const [waiting] = await waitingForRetry(id, 1);

    await t.dataSource.getRepository(WebhookEndpointEntity).delete({ id });
    expect(await t.dataSource.getRepository(WebhookDeliveryEntity).findOneByOrFail({ id: waiting.id })).toMatchObject({
      status: 'pending',
    });

    const row = await waitFor('the delivery to be cancelled when its retry comes due', async () => {
      const found = await t.dataSource.getRepository(WebhookDeliveryEntity).findOneByOrFail({ id: waiting.id });
      return found.status !== 'pending' && found;
    });
    expect(row).toMatchObject({ status: 'cancelled', lastError: 'endpoint deleted', attemptCount: 1, leaseToken: null });
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('recovers failed deliveries: they are queued again and delivered once the receiver is healthy', async () => {
    const owner = uniqueOwner();
    const path = `/recover-failed-${owner}`;
    let healthy = false;
    receiver.on(path, () => (healthy ? { status: 200 } : { status: 500 }));
    const { id } = await register(owner, path);
    const since = new Date(Date.now() - 60_000).toISOString();
    const events = await t.publisher.emitMany([1, 2].map((n) => ({ type: 'order.paid', data: { n }, ownerId: owner })));
    const failed = await waitFor('both deliveries to fail', async () => {
      const rows = await deliveriesOf(id);
      return rows.length === 2 && rows.every((row) => row.status === 'failed') && rows;
    });
    for (const row of failed) expect(row).toMatchObject({ attemptCount: 2, lastError: 'HTTP 500; retry schedule exhausted' });
    expect(receiver.at(path)).toHaveLength(4);

    healthy = true;
    expect((await t.api(owner).post(`/v1/webhooks/${id}/recover`).send({ since }).expect(202)).body).toEqual({ recovering: 2 });

    const recovered = await waitFor('both deliveries to succeed', async () => {
      const rows = await deliveriesOf(id);
      return rows.every((row) => row.status === 'succeeded') && rows;
    });
    for (const row of recovered) expect(row).toMatchObject({ attemptCount: 3, lastStatusCode: 200, lastError: null });
    const resent = receiver.at(path).slice(4);
    expect(resent.map((request) => JSON.parse(request.body).id).sort()).toEqual(events.map((event) => event.id).sort());
    expect(resent.map((request) => request.headers['x-webhook-attempt'])).toEqual(['3', '3']);
  });

  it('stops signing with the rotated-out secret once the overlap has passed', async () => {
    const owner = uniqueOwner();
    const path = `/rotation-${owner}`;
    const { id, secret: old } = await register(owner, path);
    const verifies = (secret: string, request: ReceivedRequest) => {
      try {
        new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    };
    const signatures = (request: ReceivedRequest) => String(request.headers['webhook-signature']).split(' ');
    const deliverOne = async (n: number) => {
      const { id: eventId } = await t.publisher.emit('user.updated', { n }, { ownerId: owner });
      return waitFor(`event ${n} at the receiver`, () => receiver.at(path).find((request) => JSON.parse(request.body).id === eventId));
    };

    const { secret: fresh } = (await t.api(owner).post(`/v1/webhooks/${id}/rotate-secret`).expect(200)).body;
    const { retiredSecrets } = await t.dataSource.getRepository(WebhookEndpointEntity).findOneByOrFail({ id });
    const overlapEnds = retiredSecrets![0].expires_at;

    const during = await deliverOne(0);
    expect(signatures(during)).toHaveLength(2);
    expect([verifies(fresh, during), verifies(old, during)]).toEqual([true, true]);

    // Emits one event after another until one arrives signed once: the overlap has then ended.
    let n = 1;
    let after = during;
    await waitFor(
      'a delivery signed with one secret only',
      async () => {
        after = await deliverOne(n++);
        return signatures(after).length === 1;
      },
      OVERLAP_MS + 15_000,
      50,
    );
    expect(after.at).toBeGreaterThanOrEqual(overlapEnds);
    expect([verifies(fresh, after), verifies(old, after)]).toEqual([true, false]);
    // every delivery signed twice was sent while the overlap lasted
    const twice = receiver.at(path).filter((request) => signatures(request).length === 2);
    expect(twice.every((request) => verifies(old, request))).toBe(true);
  });
});
