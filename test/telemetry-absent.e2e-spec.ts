import { WebhookEventEntity } from '../lib/index.js';
import { loadOpenTelemetry } from '../lib/telemetry/open-telemetry-api.js';
import { WebhooksTelemetry } from '../lib/telemetry/webhooks-telemetry.js';
import { startTestApp, uniqueOwner } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

// As on a host that never installed the optional peer dependency: requiring it fails.
jest.mock('@opentelemetry/api', () => {
  throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
});

describe('without @opentelemetry/api', () => {
  it('is really not there for this file', async () => {
    await expect(import('@opentelemetry/api')).rejects.toThrow(/Cannot find module/);
  });

  it('boots, emits and delivers, with the no-op telemetry and nothing traced', async () => {
    await expect(loadOpenTelemetry()).resolves.toBeNull();
    const receiver = await TestReceiver.start();
    // Propagation asked for, but there is no trace to propagate.
    const t = await startTestApp({ webhooks: { delivery: { timeoutMs: 2_000, propagateTraceContext: true } } });
    try {
      expect(t.app.get(WebhooksTelemetry).constructor).toBe(WebhooksTelemetry);
      const owner = uniqueOwner();
      await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url('/absent'), events: ['*'] })
        .expect(201);
      const [event] = await t.publisher.emitMany([
        { type: 'user.created', data: { n: 1 }, ownerId: owner },
        { type: 'order.paid', data: { n: 2 }, ownerId: owner },
      ]);
      await waitFor('both deliveries', () => receiver.at('/absent').length === 2);
      expect(
        receiver
          .at('/absent')
          .map((request) => JSON.parse(request.body).type)
          .sort(),
      ).toEqual(['order.paid', 'user.created']);
      expect(receiver.at('/absent').every((request) => request.headers.traceparent === undefined)).toBe(true);
      const stored = await t.dataSource.getRepository(WebhookEventEntity).findOneByOrFail({ id: event.id });
      expect(stored.traceContext).toBeNull();
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
