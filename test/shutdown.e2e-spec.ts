import { randomBytes } from 'node:crypto';
import { WebhookDeliveryEntity } from '../lib/index.js';
import { queuedJobs } from './support/queue-state.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

describe('graceful shutdown', () => {
  let receiver: TestReceiver;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
  });

  afterAll(() => receiver.close());

  it('hands claimed deliveries it has not started back to the queue, where the next instance takes them', async () => {
    const database: TestDatabase = await createTestDatabase({ file: true });
    const queueName = `wh-test-${randomBytes(5).toString('hex')}`;
    // One request slot: a slow request holds it, so what is claimed after it waits, unstarted.
    const webhooks = { queueName, delivery: { concurrency: 1, timeoutMs: 5_000 } };
    const first = await startTestApp({ database, dropDatabase: false, webhooks });
    let second: TestApp | undefined;
    try {
      const owner = uniqueOwner();
      const slow = `/slow-${owner}`;
      const waiting = `/handed-back-${owner}`;
      receiver.on(slow, { status: 200, delayMs: 800 });
      const api = first.api(owner);
      await api
        .post('/v1/webhooks')
        .send({ url: receiver.url(slow), events: ['order.paid'] })
        .expect(201);
      const { id: endpointId } = (
        await api
          .post('/v1/webhooks')
          .send({ url: receiver.url(waiting), events: ['user.created'] })
          .expect(201)
      ).body;

      await first.publisher.emit('order.paid', {}, { ownerId: owner });
      await waitFor('the slow request to be in flight', () => receiver.at(slow).length === 1);
      const events = await first.publisher.emitMany([1, 2].map((n) => ({ type: 'user.created', data: { n }, ownerId: owner })));
      const deliveries = first.dataSource.getRepository(WebhookDeliveryEntity);
      await waitFor('both deliveries claimed by the first instance', async () => {
        const rows = await deliveries.findBy({ endpointId });
        return rows.length === 2 && rows.every((row) => row.status === 'pending' && row.leaseToken !== null);
      });

      // The app's own close (not the helper's): its queue keys and database must outlive it.
      await first.app.close();

      expect(receiver.at(waiting)).toHaveLength(0);
      expect(receiver.at(slow)).toHaveLength(1);
      second = await startTestApp({ database, webhooks });
      const handedBack = await second.dataSource.getRepository(WebhookDeliveryEntity).findBy({ endpointId });
      for (const row of handedBack) expect(row).toMatchObject({ status: 'pending', attemptCount: 0, leaseToken: null, leaseUntil: null });
      expect((await second.dataSource.getRepository(WebhookDeliveryEntity).findOneByOrFail({ eventType: 'order.paid' })).status).toBe(
        'succeeded',
      );

      await waitFor('the handed-back deliveries at the receiver', () => receiver.at(waiting).length === 2);
      expect(
        receiver
          .at(waiting)
          .map((request) => JSON.parse(request.body).id)
          .sort(),
      ).toEqual(events.map((event) => event.id).sort());
      await waitFor('both deliveries recorded as succeeded', async () => {
        const rows = await second!.dataSource.getRepository(WebhookDeliveryEntity).findBy({ endpointId });
        return rows.every((row) => row.status === 'succeeded' && row.attemptCount === 1);
      });
      expect(await queuedJobs(queueName)).toBe(0);
    } finally {
      if (second) await second.close();
      else {
        await first.app.close().catch(() => undefined);
        await database.drop();
      }
    }
  });
});
