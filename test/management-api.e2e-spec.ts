import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';

/** What registration answers when the module's development switches are off. */
const HTTP_REFUSED = 'url must use https (http:// needs the WebhooksModule option security.allowHttp: true, for development only)';
const PRIVATE_REFUSED =
  'url must not point at a private, loopback or link-local address ' +
  '(that needs the WebhooksModule option security.allowPrivateNetworks: true, for development only)';

describe('management API /v1/webhooks', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      webhooks: {
        security: { allowHttp: false, allowPrivateNetworks: false },
        rateLimit: { write: { limit: 1000, windowMs: 60_000 }, read: { limit: 1000, windowMs: 60_000 } },
      },
    });
  });

  afterAll(() => t.close());

  const create = (owner: string, body: object = {}) =>
    t
      .api(owner)
      .post('/v1/webhooks')
      .send({ url: 'https://hooks.example.com/in', events: ['user.created'], ...body });

  describe('POST /v1/webhooks', () => {
    it('creates an endpoint as the seed guide does and returns it with its secret', async () => {
      const owner = uniqueOwner();
      const response = await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: 'https://your-domain.com/webhook', events: ['user.created', 'user.updated'], description: 'User events webhook' })
        .expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^wh_[0-9A-Z]{26}$/),
        url: 'https://your-domain.com/webhook',
        events: ['user.created', 'user.updated'],
        description: 'User events webhook',
        enabled: true,
        disabled_reason: null,
        metadata: {},
        created_at: expect.any(String),
        updated_at: expect.any(String),
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      });
      expect(new Date(response.body.created_at).toISOString()).toBe(response.body.created_at);
    });

    it('accepts wildcards, metadata and a disabled start', async () => {
      const response = await create(uniqueOwner(), { events: ['*', 'order.*'], metadata: { team: 'billing' }, enabled: false }).expect(201);
      expect(response.body).toMatchObject({
        events: ['*', 'order.*'],
        metadata: { team: 'billing' },
        enabled: false,
        disabled_reason: 'disabled through the API',
      });
    });

    it.each([
      [HTTP_REFUSED, { url: 'http://hooks.example.com/in' }],
      [PRIVATE_REFUSED, { url: 'https://127.0.0.1/in' }],
      [PRIVATE_REFUSED, { url: 'https://localhost/in' }],
      [PRIVATE_REFUSED, { url: 'https://169.254.169.254/latest' }],
      ['url must not contain credentials', { url: 'https://user:pw@hooks.example.com/' }],
      ['url must not contain whitespace or control characters', { url: 'not a url' }],
      ['url must be at most 2048 characters', { url: `https://hooks.example.com/${'a'.repeat(2100)}` }],
      ['events must list 1-100 event types', { events: [] }],
      ['events must list 1-100 event types', { events: Array.from({ length: 101 }, () => 'user.created') }],
      ['events[0] "user.exploded" is not a known event type', { events: ['user.exploded'] }],
      ['events[0] "billing.*" matches no known event type', { events: ['billing.*'] }],
      [
        'events[0] "user.*.x" must be "*", an event type such as "user.created", or a prefix wildcard such as "user.*"',
        { events: ['user.*.x'] },
      ],
      ['events must not repeat an event type', { events: ['user.created', 'user.created'] }],
      ['description must be at most 1024 characters', { description: 'd'.repeat(1025) }],
      ['metadata.a must be a string', { metadata: { a: 1 } }],
      ['metadata must have at most 50 keys', { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }],
    ])('refuses with 400: %s', async (message, body) => {
      const response = await create(uniqueOwner(), body).expect(400);
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.arrayContaining([message]) });
    });

    it('names every problem at once and writes nothing', async () => {
      const owner = uniqueOwner();
      const response = await create(owner, { url: 'http://x.example.com', events: ['nope'], description: 'd'.repeat(2000) }).expect(400);
      expect(response.body.message).toEqual([
        HTTP_REFUSED,
        'events[0] "nope" is not a known event type',
        'description must be at most 1024 characters',
      ]);
      expect((await t.api(owner).get('/v1/webhooks').expect(200)).body.data).toEqual([]);
    });

    it.each([
      [{ url: 5, events: ['user.created'] }, 'url must be a string'],
      [{ url: 'https://a.example.com', events: 'user.created' }, 'events must be an array'],
      [{ url: 'https://a.example.com', events: [1] }, 'each value in events must be a string'],
      [{ url: 'https://a.example.com', events: ['user.created'], enabled: 'yes' }, 'enabled must be a boolean value'],
      [{ url: 'https://a.example.com', events: ['user.created'], metadata: 'x' }, 'metadata must be an object'],
      [{ url: 'https://a.example.com', events: ['user.created'], secret: 'whsec_mine' }, 'property secret should not exist'],
      [{ url: 'https://a.example.com', events: ['user.created'], id: 'wh_x' }, 'property id should not exist'],
    ])('refuses wrong types and unknown fields: %j', async (body, message) => {
      const response = await t.api(uniqueOwner()).post('/v1/webhooks').send(body).expect(400);
      expect(response.body.message).toContain(message);
    });

    it('refuses bodies that are not JSON objects', async () => {
      for (const body of ['[]', '"text"', 'null', '42']) {
        const response = await t.api(uniqueOwner()).post('/v1/webhooks').set('Content-Type', 'application/json').send(body);
        expect(response.status).toBe(400);
      }
      const broken = await t.api(uniqueOwner()).post('/v1/webhooks').set('Content-Type', 'application/json').send('{"url": ');
      expect(broken.status).toBe(400);
    });

    it('refuses an endpoint beyond maxEndpointsPerOwner with 409, for that owner only', async () => {
      const capped = await startTestApp({ webhooks: { maxEndpointsPerOwner: 2 } });
      try {
        const [owner, other] = [uniqueOwner(), uniqueOwner()];
        const register = (who: string) =>
          capped
            .api(who)
            .post('/v1/webhooks')
            .send({ url: 'http://127.0.0.1:9/in', events: ['*'] });
        await register(owner).expect(201);
        await register(owner).expect(201);
        const refused = await register(owner).expect(409);
        expect(refused.body).toEqual({
          statusCode: 409,
          error: 'Conflict',
          message: 'this owner already has 2 webhook endpoints, the most allowed (maxEndpointsPerOwner: 2); delete one first',
        });
        expect((await capped.api(owner).get('/v1/webhooks').expect(200)).body.data).toHaveLength(2);
        await register(other).expect(201);
      } finally {
        await capped.close();
      }
    });
  });

  describe('reading', () => {
    it("lists only the caller's endpoints, newest first, without secrets, with cursor pagination", async () => {
      const [owner, other] = [uniqueOwner(), uniqueOwner()];
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await create(owner, { description: `n${i}` }).expect(201)).body.id);
      await create(other).expect(201);

      const first = await t.api(owner).get('/v1/webhooks?limit=2').expect(200);
      expect(first.body.data.map((e: any) => e.id)).toEqual([ids[4], ids[3]]);
      expect(first.body.data[0]).not.toHaveProperty('secret');
      const second = await t.api(owner).get(`/v1/webhooks?limit=2&cursor=${first.body.next_cursor}`).expect(200);
      expect(second.body.data.map((e: any) => e.id)).toEqual([ids[2], ids[1]]);
      const last = await t.api(owner).get(`/v1/webhooks?limit=2&cursor=${second.body.next_cursor}`).expect(200);
      expect(last.body).toEqual({ data: [expect.objectContaining({ id: ids[0] })], next_cursor: null });
      const all = await t.api(owner).get('/v1/webhooks').expect(200);
      expect(all.body.data).toHaveLength(5);
    });

    it.each([
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=1.5',
      'cursor=nonsense',
      'cursor=dlv_01KB0000000000000000000000',
      'foo=bar',
      'limit=1&limit=2',
    ])('refuses the query %s with 400', async (query) => {
      await t.api(uniqueOwner()).get(`/v1/webhooks?${query}`).expect(400);
    });

    it("gets one endpoint; another owner's id and malformed ids are 404", async () => {
      const [owner, other] = [uniqueOwner(), uniqueOwner()];
      const { id } = (await create(owner).expect(201)).body;
      const got = await t.api(owner).get(`/v1/webhooks/${id}`).expect(200);
      expect(got.body).toMatchObject({ id, url: 'https://hooks.example.com/in' });
      expect(got.body).not.toHaveProperty('secret');
      expect((await t.api(other).get(`/v1/webhooks/${id}`).expect(404)).body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'webhook not found',
      });
      await t.api(owner).get('/v1/webhooks/wh_01KB0000000000000000000000').expect(404);
      await t.api(owner).get('/v1/webhooks/not-an-id').expect(404);
      await t.api(owner).get(`/v1/webhooks/${id}'%20OR%201=1`).expect(404);
    });

    it('serves the event-type catalog', async () => {
      const response = await t.api(uniqueOwner()).get('/v1/webhooks/event-types').expect(200);
      expect(response.body.data.map((e: any) => e.name)).toEqual([
        'user.created',
        'user.updated',
        'user.deleted',
        'order.paid',
        'order.refunded',
        'webhook.endpoint.disabled',
        'webhook.endpoint.recovered',
        'webhook.delivery.exhausted',
      ]);
      expect(response.body.data[0]).toEqual({ name: 'user.created', description: null, schema: null });
    });
  });

  describe('PATCH /v1/webhooks/:id', () => {
    it("updates what it is given, as the guide's curl does, and leaves the rest", async () => {
      const owner = uniqueOwner();
      const created = (await create(owner, { description: 'keep me', metadata: { a: 'b' } }).expect(201)).body;
      const updated = await t
        .api(owner)
        .patch(`/v1/webhooks/${created.id}`)
        .send({ events: ['user.created', 'user.updated', 'user.deleted'] })
        .expect(200);
      expect(updated.body).toMatchObject({
        id: created.id,
        events: ['user.created', 'user.updated', 'user.deleted'],
        description: 'keep me',
        metadata: { a: 'b' },
        url: created.url,
      });
      expect(updated.body).not.toHaveProperty('secret');
      const again = await t.api(owner).get(`/v1/webhooks/${created.id}`).expect(200);
      expect(again.body.events).toEqual(['user.created', 'user.updated', 'user.deleted']);

      const cleared = await t.api(owner).patch(`/v1/webhooks/${created.id}`).send({ description: null, enabled: false }).expect(200);
      expect(cleared.body).toMatchObject({ description: null, enabled: false, disabled_reason: 'disabled through the API' });
      const enabled = await t.api(owner).patch(`/v1/webhooks/${created.id}`).send({ enabled: true }).expect(200);
      expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
    });

    it('validates like create, refuses empty patches, and is 404 for other owners', async () => {
      const [owner, other] = [uniqueOwner(), uniqueOwner()];
      const { id } = (await create(owner).expect(201)).body;
      expect((await t.api(owner).patch(`/v1/webhooks/${id}`).send({ url: 'ftp://x' }).expect(400)).body.message).toEqual([
        'url must use https',
      ]);
      expect((await t.api(owner).patch(`/v1/webhooks/${id}`).send({ events: [] }).expect(400)).body.message).toEqual([
        'events must list 1-100 event types',
      ]);
      expect((await t.api(owner).patch(`/v1/webhooks/${id}`).send({}).expect(400)).body.message).toEqual([
        'body must set at least one of url, events, description, enabled, metadata',
      ]);
      expect((await t.api(owner).patch(`/v1/webhooks/${id}`).send({ secret: 'x' }).expect(400)).body.message).toContain(
        'property secret should not exist',
      );
      await t.api(other).patch(`/v1/webhooks/${id}`).send({ description: 'mine now' }).expect(404);
      expect((await t.api(owner).get(`/v1/webhooks/${id}`).expect(200)).body.description).toBeNull();
    });
  });

  describe('DELETE /v1/webhooks/:id', () => {
    it("deletes the owner's endpoint with 204; other owners get 404 and nothing is deleted", async () => {
      const [owner, other] = [uniqueOwner(), uniqueOwner()];
      const { id } = (await create(owner).expect(201)).body;
      await t.api(other).delete(`/v1/webhooks/${id}`).expect(404);
      await t.api(owner).get(`/v1/webhooks/${id}`).expect(200);
      const response = await t.api(owner).delete(`/v1/webhooks/${id}`).expect(204);
      expect(response.text).toBe('');
      await t.api(owner).get(`/v1/webhooks/${id}`).expect(404);
      await t.api(owner).delete(`/v1/webhooks/${id}`).expect(404);
    });
  });

  describe('secrets', () => {
    it('rotates the secret and reveals the current one only on request', async () => {
      const owner = uniqueOwner();
      const { id, secret } = (await create(owner).expect(201)).body;
      expect((await t.api(owner).get(`/v1/webhooks/${id}/secret`).expect(200)).body).toEqual({ secret });
      const rotated = (await t.api(owner).post(`/v1/webhooks/${id}/rotate-secret`).expect(200)).body;
      expect(rotated.secret).toMatch(/^whsec_/);
      expect(rotated.secret).not.toBe(secret);
      expect((await t.api(owner).get(`/v1/webhooks/${id}/secret`).expect(200)).body).toEqual({ secret: rotated.secret });
      await t.api(uniqueOwner()).post(`/v1/webhooks/${id}/rotate-secret`).expect(404);
    });
  });

  describe('authentication and permissions', () => {
    it('answers 401 with WWW-Authenticate without credentials', async () => {
      const server = t.app.getHttpServer();
      const request = (await import('supertest')).default;
      const response = await request(server).get('/v1/webhooks').expect(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'missing or invalid credentials' });
      await request(server).post('/v1/webhooks').set('Authorization', 'Bearer wrong').send({}).expect(401);
      await request(server).get('/v1/webhooks/event-types').expect(401);
    });

    it('lets read-only callers read but not write (403), and callers without permissions do nothing', async () => {
      const owner = uniqueOwner();
      const { id } = (await create(owner).expect(201)).body;
      const reader = t.api(owner, `Bearer read:${owner}`);
      await reader.get('/v1/webhooks').expect(200);
      await reader.get(`/v1/webhooks/${id}`).expect(200);
      await reader.get(`/v1/webhooks/${id}/deliveries`).expect(200);
      const denied = await reader
        .post('/v1/webhooks')
        .send({ url: 'https://a.example.com', events: ['user.created'] })
        .expect(403);
      expect(denied.body.message).toBe('this route needs the "webhooks:write" permission');
      await reader.patch(`/v1/webhooks/${id}`).send({ description: 'x' }).expect(403);
      await reader.delete(`/v1/webhooks/${id}`).expect(403);
      await reader.get(`/v1/webhooks/${id}/secret`).expect(403);
      await reader.post(`/v1/webhooks/${id}/rotate-secret`).expect(403);
      const nobody = t.api(owner, `Bearer nobody:${owner}`);
      await nobody.get('/v1/webhooks').expect(403);
      await t.api(owner).get(`/v1/webhooks/${id}`).expect(200);
    });
  });

  describe('deliveries', () => {
    it('lists deliveries with status filter and validates the query and ids', async () => {
      const owner = uniqueOwner();
      const { id } = (await create(owner).expect(201)).body;
      const list = await t.api(owner).get(`/v1/webhooks/${id}/deliveries?status=failed&limit=5`).expect(200);
      expect(list.body).toEqual({ data: [], next_cursor: null });
      await t.api(owner).get(`/v1/webhooks/${id}/deliveries?status=exploded`).expect(400);
      await t.api(owner).get(`/v1/webhooks/${id}/deliveries?cursor=wh_01KB0000000000000000000000`).expect(400);
      await t.api(owner).get(`/v1/webhooks/${id}/deliveries/dlv_01KB0000000000000000000000`).expect(404);
      await t.api(owner).get(`/v1/webhooks/${id}/deliveries/garbage`).expect(404);
      await t.api(uniqueOwner()).get(`/v1/webhooks/${id}/deliveries`).expect(404);
    });
  });
});

describe('management API rate limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ webhooks: { rateLimit: { write: { limit: 3, windowMs: 2_000 }, read: { limit: 5, windowMs: 2_000 } } } });
  });

  afterAll(() => t.close());

  it('answers 429 with Retry-After once an owner spends its write budget, per owner', async () => {
    const [owner, other] = [uniqueOwner(), uniqueOwner()];
    const body = { url: 'https://hooks.example.com/in', events: ['user.created'] };
    for (let i = 0; i < 3; i++) {
      const ok = await t.api(owner).post('/v1/webhooks').send(body).expect(201);
      expect(ok.headers['x-ratelimit-limit']).toBe('3');
      expect(ok.headers['x-ratelimit-remaining']).toBe(String(2 - i));
    }
    const limited = await t.api(owner).post('/v1/webhooks').send(body).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(2);
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    await t.api(other).post('/v1/webhooks').send(body).expect(201);
    // reads have their own budget
    await t.api(owner).get('/v1/webhooks').expect(200);
    expect((await t.api(owner).get('/v1/webhooks').expect(200)).body.data).toHaveLength(3);
  });

  it('shares the budget between two instances through Redis', async () => {
    const second = await startTestApp({
      database: t.database,
      dropDatabase: false,
      webhooks: { queueName: t.queueName, rateLimit: { write: { limit: 3, windowMs: 2_000 }, read: { limit: 5, windowMs: 2_000 } } },
    });
    try {
      const owner = uniqueOwner();
      for (let i = 0; i < 5; i++) await (i % 2 ? t : second).api(owner).get('/v1/webhooks').expect(200);
      await t.api(owner).get('/v1/webhooks').expect(429);
      await second.api(owner).get('/v1/webhooks').expect(429);
    } finally {
      await second.app.close();
    }
  });
});
