import { Webhook } from 'standardwebhooks';
import { WebhookDeliveryEntity } from '../lib/index.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { sleep, waitFor } from './support/wait-for.js';

describe('operating endpoints: test, retry, recover, rotate, delete', () => {
  let receiver: TestReceiver;
  let t: TestApp;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp({ webhooks: { retry: { schedule: [100] }, signing: { rotationOverlapMs: 60_000 } } });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const register = async (owner: string, path: string) =>
    (await t.api(owner).post('/v1/webhooks').send({ url: receiver.url(path), events: ['user.*'] }).expect(201)).body as { id: string; secret: string };

  const deliveries = async (owner: string, id: string, query = '') => (await t.api(owner).get(`/v1/webhooks/${id}/deliveries${query}`).expect(200)).body.data as any[];

  it('sends a signed webhook.test event to that endpoint only', async () => {
    const owner = uniqueOwner();
    const target = await register(owner, '/test-target');
    await register(owner, '/test-bystander');
    const response = await t.api(owner).post(`/v1/webhooks/${target.id}/test`).expect(202);
    expect(response.body).toEqual({ event_id: expect.stringMatching(/^evt_/), delivery_id: expect.stringMatching(/^dlv_/) });
    const [request] = await waitFor('the test event', () => receiver.at('/test-target').length === 1 && receiver.at('/test-target'));
    const payload = new Webhook(target.secret).verify(request.body, request.headers as Record<string, string>) as any;
    expect(payload).toMatchObject({ id: response.body.event_id, type: 'webhook.test', data: { webhook_id: target.id } });
    expect(receiver.at('/test-bystander')).toHaveLength(0);
    await t.api(uniqueOwner()).post(`/v1/webhooks/${target.id}/test`).expect(404);
  });

  it('retries a failed delivery on request, and refuses to retry a pending one', async () => {
    const owner = uniqueOwner();
    const { id } = await register(owner, '/retry-me');
    receiver.on('/retry-me', { status: 500 });
    await t.publisher.emit('user.created', { n: 1 }, { ownerId: owner });
    const [failed] = await waitFor('the failure', async () => {
      const rows = await deliveries(owner, id);
      return rows[0]?.status === 'failed' && rows;
    });
    expect(failed.attempt_count).toBe(2);

    receiver.on('/retry-me', { status: 200 });
    const retried = await t.api(owner).post(`/v1/webhooks/${id}/deliveries/${failed.id}/retry`).expect(202);
    expect(retried.body).toMatchObject({ id: failed.id, status: 'pending' });
    await waitFor('the manual retry to succeed', async () => (await deliveries(owner, id))[0]?.status === 'succeeded');
    const attempts = (await t.api(owner).get(`/v1/webhooks/${id}/deliveries/${failed.id}`).expect(200)).body.attempts;
    expect(attempts.map((a: any) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(receiver.at('/retry-me').map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '2', '3']);
    await t.api(uniqueOwner()).post(`/v1/webhooks/${id}/deliveries/${failed.id}/retry`).expect(404);
  });

  it('keeps deliveries for a disabled endpoint as skipped and replays them with recover after re-enabling', async () => {
    const owner = uniqueOwner();
    const { id } = await register(owner, '/recover-me');
    await t.api(owner).patch(`/v1/webhooks/${id}`).send({ enabled: false }).expect(200);
    const since = new Date(Date.now() - 1_000).toISOString();
    for (let i = 0; i < 3; i++) await t.publisher.emit('user.updated', { i }, { ownerId: owner });
    expect((await deliveries(owner, id, '?status=skipped')).length).toBe(3);
    await sleep(200);
    expect(receiver.at('/recover-me')).toHaveLength(0);

    const refused = await t.api(owner).post(`/v1/webhooks/${id}/recover`).send({ since }).expect(409);
    expect(refused.body.message).toContain('webhook is disabled');
    await t.api(owner).patch(`/v1/webhooks/${id}`).send({ enabled: true }).expect(200);
    await t.api(owner).post(`/v1/webhooks/${id}/recover`).send({ since: 'yesterday' }).expect(400);
    await t.api(owner).post(`/v1/webhooks/${id}/recover`).send({ since, until: since }).expect(400);
    await t.api(owner).post(`/v1/webhooks/${id}/recover`).send({ since, extra: 1 }).expect(400);
    const recovered = await t.api(owner).post(`/v1/webhooks/${id}/recover`).send({ since }).expect(202);
    expect(recovered.body).toEqual({ recovering: 3 });
    await waitFor('three replayed deliveries', () => receiver.at('/recover-me').length === 3);
    expect(receiver.at('/recover-me').map((r) => JSON.parse(r.body).data.i).sort()).toEqual([0, 1, 2]);
    await waitFor('all succeeded', async () => (await deliveries(owner, id, '?status=succeeded')).length === 3);
  });

  it('signs with both secrets during the rotation overlap, so receivers on either verify', async () => {
    const owner = uniqueOwner();
    const { id, secret: oldSecret } = await register(owner, '/rotate');
    const { secret: newSecret } = (await t.api(owner).post(`/v1/webhooks/${id}/rotate-secret`).expect(200)).body;
    await t.publisher.emit('user.created', {}, { ownerId: owner });
    const [request] = await waitFor('the delivery', () => receiver.at('/rotate').length === 1 && receiver.at('/rotate'));
    const headers = request.headers as Record<string, string>;
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(request.body, headers)).toBeTruthy();
    expect(new Webhook(newSecret).verify(request.body, headers)).toBeTruthy();
  });

  it('cancels pending deliveries when the endpoint is deleted', async () => {
    const owner = uniqueOwner();
    const { id } = await register(owner, '/deleted');
    receiver.on('/deleted', { status: 500 });
    await t.publisher.emit('user.created', {}, { ownerId: owner });
    await waitFor('the first attempt', () => receiver.at('/deleted').length === 1);
    await t.api(owner).delete(`/v1/webhooks/${id}`).expect(204);
    const rows = await t.dataSource.getRepository(WebhookDeliveryEntity).find({ select: { status: true, lastError: true }, where: { endpointId: id } });
    expect(rows).toEqual([{ status: 'cancelled', lastError: 'endpoint deleted' }]);
    await sleep(300);
    expect(receiver.at('/deleted')).toHaveLength(1);
  });
});
