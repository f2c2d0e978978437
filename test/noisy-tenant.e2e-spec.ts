import { In } from 'typeorm';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEndpointService } from '../lib/index.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/**
 * One owner whose thousand endpoints never answer must not stall another owner's deliveries: the
 * worker's slots, the room for claimed deliveries and the queue are shared fairly between owners.
 */
describe('a noisy tenant', () => {
  let black: TestReceiver;
  let healthy: TestReceiver;
  let t: TestApp;

  beforeAll(async () => {
    black = await TestReceiver.start();
    healthy = await TestReceiver.start();
    black.on('/hang', { hang: true });
    // The hung requests stay open for the whole test: the quiet owner cannot be waiting for them to time out.
    t = await startTestApp({
      webhooks: { rateLimit: false, maxEndpointsPerOwner: 1_001, delivery: { timeoutMs: 120_000, shutdownGraceMs: 0 } },
    });
  });

  afterAll(async () => {
    await t.close();
    await black.close();
    await healthy.close();
  });

  it('does not delay another owner’s deliveries while its thousand endpoints hang', async () => {
    const noisy = uniqueOwner('noisy');
    const quiet = uniqueOwner('quiet');
    const endpoints = t.app.get(WebhookEndpointService);
    const noisyIds: string[] = [];
    for (let n = 0; n < 1_000; n++) noisyIds.push((await endpoints.create(noisy, { url: black.url('/hang'), events: ['*'] })).id);
    await endpoints.create(quiet, { url: healthy.url('/quiet'), events: ['*'] });

    // One event after another from the quiet owner, each awaited at the receiver.
    const emitted: string[] = [];
    const quietEvent = async (n: number) => {
      emitted.push((await t.publisher.emit('user.created', { n }, { ownerId: quiet })).id);
      await waitFor(`quiet delivery ${n}`, () => healthy.at('/quiet').length === emitted.length, 10_000);
    };
    // The quiet owner is already a tenant (a single-tenant app keeps every slot) when the noisy owner's
    // 10,000 deliveries land and its hung requests take what the worker lets one owner have.
    await quietEvent(0);
    for (let n = 0; n < 10; n++) await t.publisher.emit('order.paid', { n }, { ownerId: noisy });
    await waitFor('the noisy owner to hold many requests open', () => black.at('/hang').length >= 25);
    for (let n = 1; n < 60; n++) await quietEvent(n);
    expect(healthy.at('/quiet').map((request) => request.headers['webhook-id'])).toEqual(emitted);

    // None of the noisy owner's requests has ended (no attempt recorded) and its backlog is all still pending:
    // the quiet owner went past both rather than waiting for a timeout or for the backlog to drain.
    const deliveries = t.dataSource.getRepository(WebhookDeliveryEntity);
    expect(await deliveries.countBy({ endpointId: In(noisyIds), status: 'pending', attemptCount: 0 })).toBe(10_000);
    const noisyAttempts = await t.dataSource
      .getRepository(WebhookDeliveryAttemptEntity)
      .createQueryBuilder('a')
      .innerJoin(WebhookDeliveryEntity, 'd', 'd.id = a.delivery_id')
      .where('d.endpoint_id IN (:...ids)', { ids: noisyIds })
      .getCount();
    expect(noisyAttempts).toBe(0);
  }, 120_000);
});
