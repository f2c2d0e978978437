import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WebhookDeliveryEntity, WebhookEndpointEntity, WebhookEndpointService } from '../lib/index.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

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
    (
      await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url(path), events: ['user.*'] })
        .expect(201)
    ).body as { id: string; secret: string };

  const deliveries = async (owner: string, id: string, query = '') =>
    (await t.api(owner).get(`/v1/webhooks/${id}/deliveries${query}`).expect(200)).body.data as any[];

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
    // Skipped is final: nothing claims a skipped delivery, so nothing can reach the receiver until recover.
    expect((await deliveries(owner, id, '?status=skipped')).length).toBe(3);
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
    expect(
      receiver
        .at('/recover-me')
        .map((r) => JSON.parse(r.body).data.i)
        .sort(),
    ).toEqual([0, 1, 2]);
    await waitFor('all succeeded', async () => (await deliveries(owner, id, '?status=succeeded')).length === 3);
    expect((await deliveries(owner, id)).map((d) => [d.status, d.attempt_count])).toEqual(Array(3).fill(['succeeded', 1]));
    expect(receiver.at('/recover-me')).toHaveLength(3);
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

  describe('secret rotation', () => {
    const signatures = (request: { headers: Record<string, unknown> }) => String(request.headers['webhook-signature']).split(' ');
    const verifies = (secret: string, request: { body: string; headers: Record<string, unknown> }) => {
      try {
        return Boolean(new Webhook(secret).verify(request.body, request.headers as Record<string, string>));
      } catch {
        return false;
      }
    };
    const rotate = async (owner: string, id: string) =>
      (await t.api(owner).post(`/v1/webhooks/${id}/rotate-secret`).expect(200)).body.secret as string;
    const deliverOne = async (owner: string, path: string) => {
      const before = receiver.at(path).length;
      await t.publisher.emit('user.created', {}, { ownerId: owner });
      return waitFor('the delivery', () => receiver.at(path).length === before + 1 && receiver.at(path)[before]);
    };

    it('signs with the newest secret and only the one before it, however many rotations came before', async () => {
      const owner = uniqueOwner();
      const { id, secret: original } = await register(owner, '/rotated-often');
      const rotated: string[] = [];
      for (let i = 0; i < 12; i++) rotated.push(await rotate(owner, id));
      const [newest, previous] = [rotated[11], rotated[10]];

      const request = await deliverOne(owner, '/rotated-often');
      expect(signatures(request)).toHaveLength(2);
      expect(signatures(request).every((entry) => entry.startsWith('v1,'))).toBe(true);
      expect(verifies(newest, request)).toBe(true);
      expect(verifies(previous, request)).toBe(true);
      expect([original, ...rotated.slice(0, 10)].filter((secret) => verifies(secret, request))).toEqual([]);
    });

    it('revokes the previous secret at once: only the current one signs afterwards', async () => {
      const owner = uniqueOwner();
      const { id, secret: original } = await register(owner, '/revoked');
      const current = await rotate(owner, id);
      expect(signatures(await deliverOne(owner, '/revoked'))).toHaveLength(2);

      await t.api(uniqueOwner()).post(`/v1/webhooks/${id}/revoke-previous-secret`).expect(404);
      await t.api(owner, `Bearer read:${owner}`).post(`/v1/webhooks/${id}/revoke-previous-secret`).expect(403);
      const revoked = await t.api(owner).post(`/v1/webhooks/${id}/revoke-previous-secret`).expect(204);
      expect(revoked.text).toBe('');
      const request = await deliverOne(owner, '/revoked');
      expect(signatures(request)).toHaveLength(1);
      expect(verifies(current, request)).toBe(true);
      expect(verifies(original, request)).toBe(false);
      expect((await t.api(owner).get(`/v1/webhooks/${id}/secret`).expect(200)).body).toEqual({ secret: current });
      // Nothing left to revoke: still 204, still the current secret alone.
      await t.api(owner).post(`/v1/webhooks/${id}/revoke-previous-secret`).expect(204);
      expect(signatures(await deliverOne(owner, '/revoked'))).toHaveLength(1);
    });

    it('signs with at most two secrets even when the stored row lists hundreds', async () => {
      const owner = uniqueOwner();
      const { id, secret: current } = await register(owner, '/long-list');
      const retired = Array.from({ length: 400 }, () => `whsec_${randomBytes(32).toString('base64')}`);
      const expiresAt = Date.now() + 60_000;
      const retiredSecrets = retired.map((secret) => ({ secret, expires_at: expiresAt }));
      await t.dataSource.getRepository(WebhookEndpointEntity).update({ id }, { retiredSecrets });

      const request = await deliverOne(owner, '/long-list');
      expect(signatures(request)).toHaveLength(2);
      expect(verifies(current, request)).toBe(true);
      expect(verifies(retired[0], request)).toBe(true);
      expect(verifies(retired[1], request)).toBe(false);
    });

    it('chains concurrent rotations: every one succeeds, and the last replaced a secret another one issued', async () => {
      const owner = uniqueOwner();
      const { id, secret: original } = await register(owner, '/rotated-at-once');
      const service = t.app.get(WebhookEndpointService);
      const issued = (await Promise.all(Array.from({ length: 5 }, () => service.rotateSecret(owner, id)))).map(({ secret }) => secret);
      expect(new Set(issued).size).toBe(5);
      const current = (await t.api(owner).get(`/v1/webhooks/${id}/secret`).expect(200)).body.secret;
      expect(issued).toContain(current);

      const request = await deliverOne(owner, '/rotated-at-once');
      expect(signatures(request)).toHaveLength(2);
      expect(verifies(current, request)).toBe(true);
      expect(issued.filter((secret) => secret !== current && verifies(secret, request))).toHaveLength(1);
      expect(verifies(original, request)).toBe(false);
    });
  });

  it('cancels pending deliveries when the endpoint is deleted', async () => {
    const owner = uniqueOwner();
    const { id } = await register(owner, '/deleted');
    receiver.on('/deleted', { status: 500 });
    const queue = t.app.get<Queue>(getQueueToken(t.queueName));
    const jobsAdded = async () => Number(await queue.client.get(`bull:${t.queueName}:id`));
    const jobsBefore = await jobsAdded();
    await t.publisher.emit('user.created', {}, { ownerId: owner });
    await waitFor('the first attempt', () => receiver.at('/deleted').length === 1);
    // The first attempt went to this process's worker without a job; its retry is queued once it is recorded.
    await waitFor('the retry to be queued', async () => (await jobsAdded()) > jobsBefore);
    await t.api(owner).delete(`/v1/webhooks/${id}`).expect(204);
    const rows = await t.dataSource
      .getRepository(WebhookDeliveryEntity)
      .find({ select: { status: true, lastError: true }, where: { endpointId: id } });
    expect(rows).toEqual([{ status: 'cancelled', lastError: 'endpoint deleted' }]);
    await waitFor('the queue to run dry', async () => {
      const counts = await queue.getJobCounts();
      return counts.waiting + counts.active + counts.delayed === 0;
    });
    expect(receiver.at('/deleted')).toHaveLength(1);
  });
});
