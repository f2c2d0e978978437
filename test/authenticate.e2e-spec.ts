import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { WebhookEndpointEntity, WebhookEndpointService, WebhookValidationError } from '../lib/index.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';

const principal = (ownerId: string) => Buffer.from(JSON.stringify({ ownerId })).toString('base64');

describe('authenticate', () => {
  describe('that never settles', () => {
    it('answers 503 naming authenticateTimeoutMs, and app.close() still completes', async () => {
      let called!: () => void;
      const authenticateCalled = new Promise<void>((resolve) => (called = resolve));
      const t = await startTestApp({
        webhooks: {
          authenticateTimeoutMs: 100,
          authenticate: () => {
            called();
            return new Promise(() => undefined);
          },
        },
      });
      const port = (t.app.getHttpServer().address() as AddressInfo).port;
      const pending = request(`http://127.0.0.1:${port}`).get('/v1/webhooks').set('Authorization', 'Bearer anything');
      const answered = pending.then((response) => response);
      await authenticateCalled;
      // The request is in flight, stuck in authenticate: closing must wait for its 503, not forever.
      await Promise.all([answered, t.close()]);
      const response = await answered;
      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'authentication did not finish within 100 ms (authenticateTimeoutMs); try again later',
      });
    });

    it('ignores what it settles with after the timeout', async () => {
      const owner = uniqueOwner();
      let settle!: (principal: { ownerId: string }) => void;
      const t = await startTestApp({
        webhooks: { authenticateTimeoutMs: 50, authenticate: () => new Promise((resolve) => (settle = resolve)) },
      });
      try {
        const response = await t
          .api(owner)
          .post('/v1/webhooks')
          .send({ url: 'https://hooks.example.com/in', events: ['user.created'] });
        expect(response.status).toBe(503);
        settle({ ownerId: owner });
        await new Promise((resolve) => setImmediate(resolve));
        expect(await t.dataSource.getRepository(WebhookEndpointEntity).count({ where: { ownerId: owner } })).toBe(0);
      } finally {
        await t.close();
      }
    });
  });

  describe('returning a malformed owner id', () => {
    let t: TestApp;

    beforeAll(async () => {
      // The principal comes as base64 JSON in a header, so a test can hand back any owner id.
      const principalOf = (header: string | undefined) => (header ? JSON.parse(Buffer.from(header, 'base64').toString('utf8')) : null);
      t = await startTestApp({ webhooks: { authenticate: (req) => principalOf(req.headers['x-principal']) } });
    });

    afterAll(() => t.close());

    it.each([
      ['a NUL', 'acct\u0000evil'],
      ['a line feed', 'acct\nevil'],
      ['DEL', 'acct\u007f'],
      ['a C1 control', '\u0085acct'],
      ['an empty string', ''],
      ['192 characters', 'o'.repeat(192)],
    ])('is a host bug (500) when it holds %s, and nothing is written', async (_, ownerId) => {
      const response = await request(t.app.getHttpServer())
        .post('/v1/webhooks')
        .set('X-Principal', principal(ownerId))
        .send({ url: 'https://hooks.example.com/in', events: ['user.created'] });
      expect(response.status).toBe(500);
      expect(await t.dataSource.getRepository(WebhookEndpointEntity).count()).toBe(0);
    });

    it('accepts printable owner ids, separators and non-ASCII included', async () => {
      for (const ownerId of [`${uniqueOwner()}:team|a/b c`, `${uniqueOwner()}-é\u00a0😀`]) {
        const created = await request(t.app.getHttpServer())
          .post('/v1/webhooks')
          .set('X-Principal', principal(ownerId))
          .send({ url: 'https://hooks.example.com/in', events: ['user.created'] })
          .expect(201);
        expect((await t.dataSource.getRepository(WebhookEndpointEntity).findOneByOrFail({ id: created.body.id })).ownerId).toBe(ownerId);
      }
    });

    it('is refused by WebhookEndpointService.create called from code, too', async () => {
      const service = t.app.get(WebhookEndpointService);
      const input = { url: 'https://hooks.example.com/in', events: ['user.created'] };
      const error = await service.create('acct\u0000evil', input).catch((e) => e);
      expect(error).toBeInstanceOf(WebhookValidationError);
      expect(error.message).toBe('ownerId must not contain control characters (U+0000-U+001F, U+007F-U+009F); found U+0000 at index 4');
    });
  });
});
