import type { AddressInfo } from 'node:net';
import createClient from 'openapi-fetch';
import type { paths } from './generated/openapi.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/**
 * The Webhook Setup guide's story through a client generated from openapi.json (openapi-typescript
 * types, openapi-fetch calls): if the document and the API disagree, this either fails to type-check
 * or fails here.
 */
describe('a typed client generated from openapi.json', () => {
  let t: TestApp;
  let receiver: TestReceiver;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('creates, lists, gets, patches, rotates, tests, reads deliveries and stats, and deletes', async () => {
    const owner = uniqueOwner('client');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const client = createClient<paths>({ baseUrl: `http://127.0.0.1:${port}`, headers: { Authorization: `Bearer owner:${owner}` } });

    const created = await client.POST('/v1/webhooks', {
      body: { url: receiver.url('/client'), events: ['user.created', 'user.updated'], description: 'User events webhook' },
    });
    expect(created.response.status).toBe(201);
    const endpoint = created.data!;
    expect(endpoint.secret).toMatch(/^whsec_/);
    const byId = { params: { path: { id: endpoint.id } } };

    const listed = await client.GET('/v1/webhooks', { params: { query: { limit: 10 } } });
    expect(listed.data!.data.map((e) => e.id)).toEqual([endpoint.id]);
    expect(listed.data!.next_cursor).toBeNull();

    const got = await client.GET('/v1/webhooks/{id}', byId);
    expect(got.data).toMatchObject({ id: endpoint.id, description: 'User events webhook', enabled: true, disabled_reason: null });

    const patched = await client.PATCH('/v1/webhooks/{id}', {
      ...byId,
      body: { events: ['user.created', 'user.updated', 'user.deleted'] },
    });
    expect(patched.data!.events).toEqual(['user.created', 'user.updated', 'user.deleted']);

    const rotated = await client.POST('/v1/webhooks/{id}/rotate-secret', byId);
    expect(rotated.data!.secret).not.toBe(endpoint.secret);
    const revealed = await client.GET('/v1/webhooks/{id}/secret', byId);
    expect(revealed.data!.secret).toBe(rotated.data!.secret);

    const test = await client.POST('/v1/webhooks/{id}/test', byId);
    expect(test.response.status).toBe(202);
    await waitFor('the test event at the receiver', () => receiver.at('/client').length === 1);
    await waitFor('the test delivery to succeed', async () => {
      const { data } = await client.GET('/v1/webhooks/{id}/deliveries', {
        params: { path: { id: endpoint.id }, query: { status: 'succeeded' } },
      });
      return data!.data.some((d) => d.id === test.data!.delivery_id);
    });

    const delivery = await client.GET('/v1/webhooks/{id}/deliveries/{deliveryId}', {
      params: { path: { id: endpoint.id, deliveryId: test.data!.delivery_id } },
    });
    expect(delivery.data).toMatchObject({
      event_type: 'webhook.test',
      status: 'succeeded',
      attempts: [{ attempt: 1, status_code: 200, error: null }],
    });

    const stats = await client.GET('/v1/webhooks/{id}/stats', { params: { path: { id: endpoint.id }, query: { window: '1h' } } });
    expect(stats.data).toMatchObject({ attempts: 1, succeeded: 1, success_rate: 1, last_failure_at: null });

    const types = await client.GET('/v1/webhooks/event-types');
    expect(types.data!.data.map((e) => e.name)).toContain('user.created');

    const deleted = await client.DELETE('/v1/webhooks/{id}', byId);
    expect(deleted.response.status).toBe(204);
    const gone = await client.GET('/v1/webhooks/{id}', byId);
    expect(gone.response.status).toBe(404);
    expect(gone.error).toMatchObject({ statusCode: 404, error: 'Not Found', message: 'webhook not found' });
  });
});
