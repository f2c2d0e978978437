import { Webhook } from 'standardwebhooks';
import { WebhookDeliveryEntity, WebhookEventEntity, WebhooksModule, ReservedEventTypeError, WebhooksOptionsError } from '../lib/index.js';
import { startTestApp, testWebhookOptions, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

describe('operational webhooks', () => {
  let receiver: TestReceiver;
  let t: TestApp;
  /** Endpoint ids the host's onEndpointDisabled hook was called for. */
  const disabledHooks: string[] = [];

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp({
      webhooks: {
        retry: { schedule: [100, 100] },
        delivery: { timeoutMs: 1_000 },
        hooks: { onEndpointDisabled: ({ endpointId }) => void disabledHooks.push(endpointId) },
      },
    });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function register(ownerId: string, path: string, events: string[]) {
    const response = await t
      .api(ownerId)
      .post('/v1/webhooks')
      .send({ url: receiver.url(path), events })
      .expect(201);
    return response.body as { id: string; secret: string };
  }

  /** Every delivery row of an event, with the endpoint it went to. */
  const deliveriesOf = (eventId: string) => t.dataSource.getRepository(WebhookDeliveryEntity).find({ where: { eventId } });

  const payloadsAt = (path: string) => receiver.at(path).map((request) => ({ request, payload: JSON.parse(request.body) }));

  it('tells the owner on another endpoint when one answers 410, never the gone endpoint itself', async () => {
    const owner = uniqueOwner();
    const gone = await register(owner, '/ops/gone', ['user.*', 'webhook.*']);
    const ops = await register(owner, '/ops/listener', ['webhook.*']);
    const everything = await register(owner, '/ops/everything', ['*']);
    receiver.on('/ops/gone', { status: 410 });

    const { id: userEventId } = await t.publisher.emit('user.created', { user_id: 'u1' }, { ownerId: owner });

    const received = await waitFor('webhook.endpoint.disabled and webhook.delivery.exhausted at the listener', () => {
      const byType = new Map(payloadsAt('/ops/listener').map((entry) => [entry.payload.type, entry]));
      return byType.has('webhook.endpoint.disabled') && byType.has('webhook.delivery.exhausted') && byType;
    });
    const disabled = received.get('webhook.endpoint.disabled')!;
    expect(disabled.payload).toMatchObject({
      type: 'webhook.endpoint.disabled',
      data: { endpoint_id: gone.id, reason: 'endpoint answered 410 Gone' },
    });
    expect(Object.keys(disabled.payload)).toEqual(['id', 'type', 'created_at', 'data']);
    expect(new Date(disabled.payload.data.disabled_at).toString()).not.toBe('Invalid Date');
    // Signed like any delivery, with the listener's own secret.
    const { request } = disabled;
    const verified = new Webhook(ops.secret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    });
    expect(verified).toMatchObject({ type: 'webhook.endpoint.disabled' });

    const [userDelivery] = await deliveriesOf(userEventId).then((rows) => rows.filter((row) => row.endpointId === gone.id));
    expect(received.get('webhook.delivery.exhausted')!.payload.data).toEqual({
      delivery_id: userDelivery.id,
      endpoint_id: gone.id,
      event_id: userEventId,
      event_type: 'user.created',
      attempts: 1,
      last_error: expect.any(String),
    });

    // Each operational event was written for the listener only: not for the endpoint it is about
    // (subscribed to webhook.* too), not for the "*" endpoint.
    for (const { payload } of received.values()) {
      const rows = await deliveriesOf(payload.id);
      expect(rows.map((row) => row.endpointId)).toEqual([ops.id]);
    }
    expect(receiver.at('/ops/gone')).toHaveLength(1);
    expect(payloadsAt('/ops/everything').map(({ payload }) => payload.type)).toEqual(['user.created']);
    expect(everything.id).toBeDefined();
  });

  it('tells the owner when a failing endpoint recovers', async () => {
    const owner = uniqueOwner();
    const flaky = await register(owner, '/ops/flaky', ['user.created']);
    await register(owner, '/ops/recovered-listener', ['webhook.endpoint.recovered']);
    receiver.on('/ops/flaky', (_, index) => (index < 2 ? { status: 500 } : { status: 200 }));

    await t.publisher.emit('user.created', { user_id: 'u2' }, { ownerId: owner });

    const [{ payload }] = await waitFor('webhook.endpoint.recovered', () => {
      const found = payloadsAt('/ops/recovered-listener');
      return found.length > 0 && found;
    });
    expect(payload).toMatchObject({ type: 'webhook.endpoint.recovered', data: { endpoint_id: flaky.id } });
    const failingSince = Date.parse(payload.data.failing_since);
    expect(failingSince).toBeLessThanOrEqual(Date.parse(payload.data.recovered_at));
    expect(receiver.at('/ops/flaky')).toHaveLength(3);
  });

  it('does not write operational events no endpoint subscribes to', async () => {
    const owner = uniqueOwner();
    const gone = await register(owner, '/ops/gone-alone', ['user.created']);
    await register(owner, '/ops/users-only', ['*']);
    receiver.on('/ops/gone-alone', { status: 410 });
    await t.publisher.emit('user.created', { user_id: 'u3' }, { ownerId: owner });
    // The host's hook runs once the operational webhook has been dealt with.
    await waitFor("the host's onEndpointDisabled hook", () => disabledHooks.includes(gone.id));
    const events = await t.dataSource.getRepository(WebhookEventEntity).find({ where: { ownerId: owner } });
    expect(events.map((event) => event.type)).toEqual(['user.created']);
  });

  it('lists the operational types in the catalog, accepts subscriptions to them and refuses unknown webhook.* names', async () => {
    const owner = uniqueOwner();
    const catalog = (await t.api(owner).get('/v1/webhooks/event-types').expect(200)).body.data as Array<{ name: string; schema: unknown }>;
    expect(catalog.map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['user.created', 'webhook.endpoint.disabled', 'webhook.endpoint.recovered', 'webhook.delivery.exhausted']),
    );
    expect(catalog.find((entry) => entry.name === 'webhook.delivery.exhausted')!.schema).toMatchObject({ type: 'object' });

    await register(owner, '/ops/a', ['webhook.endpoint.disabled', 'webhook.endpoint.*']);
    const refused = await t
      .api(owner)
      .post('/v1/webhooks')
      .send({ url: receiver.url('/ops/b'), events: ['webhook.endpoint.deleted'] })
      .expect(400);
    expect(JSON.stringify(refused.body)).toContain('is not a known event type');
  });

  it('refuses webhook.* types from the host, on emit and in the catalog option', async () => {
    await expect(t.publisher.emit('webhook.endpoint.disabled', {}, { ownerId: uniqueOwner() })).rejects.toThrow(ReservedEventTypeError);
    expect(() => WebhooksModule.forRoot(testWebhookOptions({ eventTypes: ['user.created', 'webhook.custom'] }))).toThrow(
      new WebhooksOptionsError('eventTypes[1]: "webhook.custom" is reserved (names under "webhook." are the module\'s operational events)'),
    );
  });
});
