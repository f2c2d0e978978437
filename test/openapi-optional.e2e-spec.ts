import { jest } from '@jest/globals';
import { startTestApp, uniqueOwner } from './support/test-app.js';

// A host without @nestjs/swagger: any attempt to load it fails, as it would when it is not installed.
jest.mock('@nestjs/swagger', () => {
  throw new Error("Cannot find module '@nestjs/swagger'");
});

describe('without @nestjs/swagger installed', () => {
  it('the module loads, boots and serves its API (the OpenAPI metadata needs nothing from it)', async () => {
    expect(() => jest.requireMock('@nestjs/swagger')).toThrow("Cannot find module '@nestjs/swagger'");
    const t = await startTestApp();
    try {
      const owner = uniqueOwner('no-swagger');
      await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: 'https://example.com/hook', events: ['user.created'] })
        .expect(201);
      await t.api(owner).get('/v1/webhooks').expect(200);
    } finally {
      await t.close();
    }
  });
});
