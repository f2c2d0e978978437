import { BullModule } from '@nestjs/bull';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { WebhookPublisher, WebhooksModule, WebhooksOptionsError, type WebhooksModuleRootOptions } from '../lib/index.js';
import { bearerAuthentication, deleteQueueKeys, REDIS_URL, testWebhookOptions, uniqueOwner } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';

describe('WebhooksModule options', () => {
  it('refuses to boot with controllers on and no authenticate', () => {
    expect(() => WebhooksModule.forRoot({ eventTypes: ['a.b'] })).toThrow(
      new WebhooksOptionsError(
        'option "authenticate" is required while controllers are on: pass authenticate(req) returning { ownerId } or null, or set controllers: false for a worker-only instance',
      ),
    );
  });

  it.each<[string, Partial<WebhooksModuleRootOptions> | any, string]>([
    ['authenticate', { authenticate: 'yes' }, 'option "authenticate" must be a function'],
    ...[0, 120_001, 1.5, '10s'].map((value): [string, object, string] => [
      `authenticateTimeoutMs ${JSON.stringify(value)}`,
      { authenticateTimeoutMs: value },
      `option "authenticateTimeoutMs" must be an integer from 10 to 120000, got ${JSON.stringify(value)}`,
    ]),
    ['path', { path: 'v1/../hooks?x' }, 'option "path" must be a plain route prefix'],
    ['queueName', { queueName: 'a b' }, 'option "queueName" must be 1-100 letters'],
    ['eventTypes', { eventTypes: ['user.created', 'user.created'] }, 'eventTypes[1]: "user.created" is listed twice'],
    ['eventTypes name', { eventTypes: ['user.*'] }, 'eventTypes[0] must be a dot-separated name'],
    ['retry.schedule', { retry: { schedule: [1000, -1] } }, 'option "retry.schedule[1]" must be an integer from 0 to'],
    ['delivery.timeoutMs', { delivery: { timeoutMs: '15s' } }, 'option "delivery.timeoutMs" must be an integer from 10 to 300000, got "15s"'],
    ['delivery.concurrency', { delivery: { concurrency: 0 } }, 'option "delivery.concurrency" must be an integer from 1 to 10000, got 0'],
    ['security.allowHttp', { security: { allowHttp: 'true' } }, 'option "security.allowHttp" must be true or false, got "true"'],
    ['security.encryptionKey', { security: { encryptionKey: 'short' } }, 'option "security.encryptionKey" must be 32 random bytes'],
    ['rateLimit.write.limit', { rateLimit: { write: { limit: 0, windowMs: 1000 } } }, 'option "rateLimit.write.limit" must be an integer'],
    ['maxPayloadBytes', { maxPayloadBytes: 1e9 }, 'option "maxPayloadBytes" must be an integer from 64 to 16777216'],
    ['signing', { signing: 5 }, 'option "signing" must be an object'],
  ])('names the bad option: %s', (_, options, message) => {
    expect(() => WebhooksModule.forRoot({ authenticate: bearerAuthentication, ...options })).toThrow(message);
  });

  it('validates what forRootAsync\'s factory returns before anything uses it', async () => {
    const module = WebhooksModule.forRootAsync({ useFactory: async () => ({ eventTypes: ['x.y'] }) });
    const options = module.providers!.find((provider: any) => provider.provide === 'nestjs-webhooks:options') as any;
    await expect(options.useFactory()).rejects.toThrow('option "authenticate" is required');
    const workerOnly = WebhooksModule.forRootAsync({ controllers: false, useFactory: () => ({ delivery: { timeoutMs: -1 } }) });
    const workerOptions = workerOnly.providers!.find((provider: any) => provider.provide === 'nestjs-webhooks:options') as any;
    await expect(workerOptions.useFactory()).rejects.toThrow('option "delivery.timeoutMs" must be an integer');
    expect(() => WebhooksModule.forRootAsync({ path: 'bad path', useFactory: () => ({}) } as any)).toThrow('option "path" must be a plain route prefix');
  });

  it('boots a worker-only instance without authenticate and mounts no routes', async () => {
    const database = await createTestDatabase();
    const queueName = testWebhookOptions().queueName!;
    @Module({
      imports: [
        TypeOrmModule.forRoot({ ...database.options, autoLoadEntities: true }),
        BullModule.forRoot({ redis: REDIS_URL }),
        WebhooksModule.forRoot({ controllers: false, queueName }),
      ],
    })
    class WorkerModule {}
    const app = await NestFactory.create(WorkerModule, { logger: false });
    await app.init();
    try {
      await request(app.getHttpServer()).get('/v1/webhooks').expect(404);
      expect(app.get(WebhookPublisher)).toBeInstanceOf(WebhookPublisher);
    } finally {
      await app.close();
      await deleteQueueKeys(queueName);
      await database.drop();
    }
  });

  it('configures through forRootAsync with injected dependencies and a custom path', async () => {
    const database = await createTestDatabase();
    const queueName = testWebhookOptions().queueName!;

    @Injectable()
    class ApiKeys {
      readonly authenticate = bearerAuthentication;
    }
    @Module({ providers: [ApiKeys], exports: [ApiKeys] })
    class ApiKeysModule {}

    @Module({
      imports: [
        TypeOrmModule.forRoot({ ...database.options, autoLoadEntities: true }),
        BullModule.forRoot({ redis: REDIS_URL }),
        WebhooksModule.forRootAsync({
          imports: [ApiKeysModule],
          inject: [ApiKeys],
          path: 'api/hooks',
          queueName,
          useFactory: (keys: ApiKeys) => ({ authenticate: keys.authenticate, eventTypes: ['invoice.paid'] }),
        }),
      ],
    })
    class AsyncModule {}
    const app = await NestFactory.create(AsyncModule, { logger: false });
    await app.init();
    try {
      const owner = uniqueOwner();
      await request(app.getHttpServer()).get('/api/hooks').set('Authorization', `Bearer owner:${owner}`).expect(200);
      await request(app.getHttpServer()).get('/v1/webhooks').set('Authorization', `Bearer owner:${owner}`).expect(404);
      const types = await request(app.getHttpServer()).get('/api/hooks/event-types').set('Authorization', `Bearer owner:${owner}`).expect(200);
      expect(types.body.data.map((t: any) => t.name)).toEqual(['invoice.paid']);
    } finally {
      await app.close();
      await deleteQueueKeys(queueName);
    }

    await deleteQueueKeys(queueName);
    await database.drop();
  });
});
