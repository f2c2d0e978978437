import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { createHmac } from 'node:crypto';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

describe('delivery', () => {
  let receiver: TestReceiver;
  let t: TestApp;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp({
      webhooks: { retry: { schedule: [150, 300], maxRetryAfterMs: 60_000 }, delivery: { timeoutMs: 800, responseBodyLimitBytes: 64 } },
    });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function register(ownerId: string, path: string, events = ['user.created']) {
    const response = await t
      .api(ownerId)
      .post('/v1/webhooks')
      .send({ url: receiver.url(path), events })
      .expect(201);
    return response.body as { id: string; secret: string };
  }

  const deliveries = async (ownerId: string, webhookId: string) =>
    (await t.api(ownerId).get(`/v1/webhooks/${webhookId}/deliveries`).expect(200)).body.data as any[];

  const detail = async (ownerId: string, webhookId: string, deliveryId: string) =>
    (await t.api(ownerId).get(`/v1/webhooks/${webhookId}/deliveries/${deliveryId}`).expect(200)).body;

  it('delivers the seed payload with both signature schemes, verifiable by standardwebhooks, svix and the guide', async () => {
    const owner = uniqueOwner();
    const { id: webhookId, secret } = await register(owner, '/wire');
    const { id: eventId } = await t.publisher.emit(
      'user.created',
      { user_id: 'usr_456def', email: 'user@example.com' },
      { ownerId: owner },
    );

    const [request] = await waitFor('the delivery', () => receiver.at('/wire').length === 1 && receiver.at('/wire'));
    const payload = JSON.parse(request.body);
    expect(Object.keys(payload)).toEqual(['id', 'type', 'created_at', 'data']);
    expect(payload).toEqual({
      id: eventId,
      type: 'user.created',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { user_id: 'usr_456def', email: 'user@example.com' },
    });
    expect(eventId).toMatch(/^evt_/);

    const h = request.headers;
    expect(h['content-type']).toBe('application/json');
    expect(h['user-agent']).toMatch(/^nestjs-webhooks\/\d+\.\d+\.\d+$/);
    expect(h['webhook-id']).toBe(eventId);
    expect(Math.abs(Number(h['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(10);
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(h['x-webhook-event']).toBe('user.created');
    expect(h['x-webhook-delivery']).toMatch(/^dlv_/);
    expect(h['x-webhook-attempt']).toBe('1');
    expect(h['x-webhook-signature']).toBe(createHmac('sha256', Buffer.from(secret, 'utf8')).update(request.body, 'utf8').digest('hex'));

    const standardHeaders = {
      'webhook-id': h['webhook-id'] as string,
      'webhook-timestamp': h['webhook-timestamp'] as string,
      'webhook-signature': h['webhook-signature'] as string,
    };
    expect(new Webhook(secret).verify(request.body, standardHeaders)).toEqual(payload);
    expect(
      new SvixWebhook(secret).verify(request.body, {
        'svix-id': h['webhook-id'] as string,
        'svix-timestamp': h['webhook-timestamp'] as string,
        'svix-signature': h['webhook-signature'] as string,
      }),
    ).toEqual(payload);
    expect(() => new Webhook(secret).verify(request.body.replace('user@', 'evil@'), standardHeaders)).toThrow();

    const [delivery] = await waitFor('succeeded status', async () => {
      const rows = await deliveries(owner, webhookId);
      return rows[0]?.status === 'succeeded' && rows;
    });
    expect(delivery).toMatchObject({
      event_id: eventId,
      event_type: 'user.created',
      webhook_id: webhookId,
      attempt_count: 1,
      last_status_code: 200,
      last_error: null,
    });
    expect(delivery.id).toBe(h['x-webhook-delivery']);
  });

  it('retries on 5xx with the same id and body until it succeeds, recording every attempt', async () => {
    const owner = uniqueOwner();
    const { id: webhookId } = await register(owner, '/flaky');
    receiver.on('/flaky', (_, index) => (index < 2 ? { status: 503, body: 'busy' } : { status: 204 }));
    const { id: eventId } = await t.publisher.emit('user.created', { user_id: 'u1' }, { ownerId: owner });

    const requests = await waitFor('three attempts', () => receiver.at('/flaky').length === 3 && receiver.at('/flaky'));
    expect(requests.map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]));
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    // 150 ms and 300 ms (±20 %) between attempts
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(110);
    expect(requests[2].at - requests[1].at).toBeGreaterThanOrEqual(230);

    const [delivery] = await waitFor('success', async () => {
      const rows = await deliveries(owner, webhookId);
      return rows[0]?.status === 'succeeded' && rows;
    });
    const { attempts } = await detail(owner, webhookId, delivery.id);
    expect(attempts.map((a: any) => [a.attempt, a.status_code, a.response_body])).toEqual([
      [1, 503, 'busy'],
      [2, 503, 'busy'],
      [3, 204, null],
    ]);
    expect(attempts[0].error).toBe('HTTP 503');
    expect(attempts.every((a: any) => a.duration_ms >= 0)).toBe(true);
  });

  it('marks the delivery failed once the schedule is exhausted', async () => {
    const owner = uniqueOwner();
    const { id: webhookId } = await register(owner, '/down');
    receiver.on('/down', { status: 500, body: 'x'.repeat(500) });
    await t.publisher.emit('user.created', { user_id: 'u2' }, { ownerId: owner });

    const [delivery] = await waitFor('failed status', async () => {
      const rows = await deliveries(owner, webhookId);
      return rows[0]?.status === 'failed' && rows;
    });
    expect(receiver.at('/down')).toHaveLength(3);
    expect(delivery).toMatchObject({ attempt_count: 3, last_status_code: 500, next_attempt_at: null });
    expect(delivery.last_error).toContain('retry schedule exhausted');
    expect(delivery.completed_at).not.toBeNull();
    const { attempts } = await detail(owner, webhookId, delivery.id);
    expect(attempts).toHaveLength(3);
    expect(attempts[0].response_body).toBe('x'.repeat(64)); // cut at responseBodyLimitBytes
    const endpoint = (await t.api(owner).get(`/v1/webhooks/${webhookId}`).expect(200)).body;
    expect(endpoint.enabled).toBe(true);
  });

  it('times out a receiver that does not answer and retries', async () => {
    const owner = uniqueOwner();
    const { id: webhookId } = await register(owner, '/slow');
    receiver.on('/slow', (_, index) => (index === 0 ? { hang: true } : { status: 200 }));
    await t.publisher.emit('user.created', { user_id: 'u3' }, { ownerId: owner });

    const [delivery] = await waitFor('success after a timeout', async () => {
      const rows = await deliveries(owner, webhookId);
      return rows[0]?.status === 'succeeded' && rows;
    });
    const { attempts } = await detail(owner, webhookId, delivery.id);
    expect(attempts[0]).toMatchObject({ attempt: 1, status_code: null, error: 'timed out after 800 ms' });
    // Not early (undici's own timers may fire early); how promptly it fires is measured by the bench.
    expect(attempts[0].duration_ms).toBeGreaterThanOrEqual(790);
    expect(attempts[1]).toMatchObject({ attempt: 2, status_code: 200, error: null });
  });

  it('does not follow redirects: a 3xx is a failed attempt and the target is never called', async () => {
    const owner = uniqueOwner();
    const { id: webhookId } = await register(owner, '/moved');
    receiver.on('/moved', { status: 302, headers: { location: receiver.url('/redirect-target') } });
    await t.publisher.emit('user.created', { user_id: 'u4' }, { ownerId: owner });

    const [delivery] = await waitFor('failed status', async () => {
      const rows = await deliveries(owner, webhookId);
      return rows[0]?.status === 'failed' && rows;
    });
    expect(delivery.last_status_code).toBe(302);
    expect(delivery.last_error).toContain('redirects are not followed');
    expect(receiver.at('/redirect-target')).toHaveLength(0);
  });

  it('disables the endpoint at once on 410 Gone and skips what was still pending for it', async () => {
    const owner = uniqueOwner();
    const { id: webhookId } = await register(owner, '/gone');
    receiver.on('/gone', { status: 410 });
    await t.publisher.emit('user.created', { user_id: 'u5' }, { ownerId: owner });

    const endpoint = await waitFor('the endpoint to be disabled', async () => {
      const body = (await t.api(owner).get(`/v1/webhooks/${webhookId}`).expect(200)).body;
      return body.enabled === false && body;
    });
    expect(endpoint.disabled_reason).toBe('endpoint answered 410 Gone');
    const [delivery] = await deliveries(owner, webhookId);
    expect(delivery).toMatchObject({ status: 'failed', attempt_count: 1, last_status_code: 410 });
    expect(receiver.at('/gone')).toHaveLength(1);

    await t.publisher.emit('user.created', { user_id: 'u6' }, { ownerId: owner });
    const rows = await deliveries(owner, webhookId);
    expect(rows[0]).toMatchObject({ status: 'skipped', attempt_count: 0 });
    expect(receiver.at('/gone')).toHaveLength(1);
  });

  it('waits as long as Retry-After asks on 429', async () => {
    const owner = uniqueOwner();
    await register(owner, '/throttled');
    receiver.on('/throttled', (_, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    await t.publisher.emit('user.created', { user_id: 'u7' }, { ownerId: owner });
    const [first, second] = await waitFor('the retry', () => receiver.at('/throttled').length === 2 && receiver.at('/throttled'));
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
  });

  it("delivers only to the emitting owner's endpoints subscribed to the type, wildcards included", async () => {
    const [owner, other] = [uniqueOwner(), uniqueOwner()];
    await register(owner, '/mine-exact', ['user.created']);
    await register(owner, '/mine-prefix', ['user.*']);
    await register(owner, '/mine-all', ['*']);
    await register(owner, '/mine-orders', ['order.paid']);
    await register(other, '/theirs', ['*']);
    await t.publisher.emit('user.created', { user_id: 'u8' }, { ownerId: owner });
    await waitFor('three deliveries', () => ['/mine-exact', '/mine-prefix', '/mine-all'].every((path) => receiver.at(path).length === 1));
    await t.publisher.emit('order.paid', { order_id: 'o1' }, { ownerId: owner });
    await waitFor('the order delivery', () => receiver.at('/mine-orders').length === 1 && receiver.at('/mine-all').length === 2);
    expect(receiver.at('/mine-exact')).toHaveLength(1);
    expect(receiver.at('/mine-prefix')).toHaveLength(1);
    expect(receiver.at('/theirs')).toHaveLength(0);
  });
});
