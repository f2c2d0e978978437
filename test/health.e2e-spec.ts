import { BullModule } from '@nestjs/bull';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { WebhookPublisher, WebhooksModule, type WebhooksModuleRootOptions } from '../lib/index.js';
import { WebhooksHealthIndicator, WebhooksHealthModule, type WebhooksHealthOptions } from '../lib/health/index.js';
import { PrivateRedis } from './faults/support/private-redis.js';
import { deleteQueueKeys, REDIS_URL, startTestApp, testWebhookOptions, uniqueOwner, type TestApp } from './support/test-app.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly webhooks: WebhooksHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.webhooks.isHealthy()]);
  }
}

interface HealthApp {
  app: INestApplication;
  health(): request.Test;
}

/** A host app as the docs show it: TerminusModule, WebhooksHealthModule and a /health route. */
async function startHealthApp(
  database: TestDatabase,
  redis: string,
  webhooks: Partial<WebhooksModuleRootOptions>,
  health: WebhooksHealthOptions = {},
): Promise<HealthApp> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({ ...database.options, autoLoadEntities: true }),
      BullModule.forRoot({ redis }),
      WebhooksModule.forRoot(testWebhookOptions(webhooks)),
      TerminusModule,
      WebhooksHealthModule.forRoot(health),
    ],
    controllers: [HealthController],
  })
  class HostModule {}

  const app = await NestFactory.create(HostModule, { logger: process.env.TEST_LOGS ? ['error', 'warn', 'log'] : false });
  await app.listen(0, '127.0.0.1');
  return { app, health: () => request(app.getHttpServer()).get('/health') };
}

describe('WebhooksHealthIndicator (nestjs-webhooks/health)', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('answers 503 naming Redis while its Redis is down, and 200 once it is back', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const host = await startHealthApp(database, redis.url, {});
    cleanups.push(() => host.app.close());

    const up = await waitFor('200 at boot', async () => {
      const response = await host.health();
      return response.status === 200 ? response : null;
    });
    expect(up.body.status).toBe('ok');
    expect(up.body.info.webhooks).toMatchObject({
      status: 'up',
      database: { status: 'up' },
      redis: { status: 'up', address: `127.0.0.1:${redis.port}` },
      worker: { status: 'up', enabled: true },
      backlog: { status: 'up', pending: 0 },
    });

    await redis.stop();
    const down = await waitFor('503 with Redis down', async () => {
      const response = await host.health();
      return response.status === 503 ? response : null;
    });
    expect(down.body.status).toBe('error');
    expect(down.body.error.webhooks.status).toBe('down');
    expect(down.body.error.webhooks.redis.status).toBe('down');
    expect(down.body.error.webhooks.message).toMatch(new RegExp(`^redis: Redis at 127\\.0\\.0\\.1:${redis.port} `));
    // The rest is still reported as it is.
    expect(down.body.error.webhooks.database.status).toBe('up');

    await redis.start();
    const back = await waitFor('200 once Redis is back', async () => {
      const response = await host.health();
      return response.status === 200 ? response : null;
    });
    expect(back.body.info.webhooks.redis.status).toBe('up');
  });

  it('answers 503 once pending deliveries wait longer than the threshold, and 200 once a worker has delivered them', async () => {
    // An API-only instance with the health route, and a worker instance started later, on one database.
    const database = await createTestDatabase({ file: true });
    cleanups.push(() => database.drop());
    const queueName = `wh-test-${randomBytes(5).toString('hex')}`;
    cleanups.push(() => deleteQueueKeys(queueName));
    const host = await startHealthApp(database, REDIS_URL, { processor: false, queueName }, { maxOldestPendingAgeMs: 1_000 });
    cleanups.push(() => host.app.close());
    const receiver = await TestReceiver.start();
    cleanups.push(() => receiver.close());

    const idle = await host.health().expect(200);
    expect(idle.body.info.webhooks.worker).toEqual({ status: 'up', enabled: false });
    expect(idle.body.info.webhooks.backlog).toMatchObject({ status: 'up', pending: 0, oldestPendingAgeSeconds: 0 });

    const owner = uniqueOwner();
    await request(host.app.getHttpServer())
      .post('/v1/webhooks')
      .set('Authorization', `Bearer owner:${owner}`)
      .send({ url: receiver.url('/backlog'), events: ['*'] })
      .expect(201);
    await host.app.get(WebhookPublisher).emitMany([1, 2, 3].map((n) => ({ type: 'order.paid', data: { n }, ownerId: owner })));

    const late = await waitFor('503 with the backlog down', async () => {
      const response = await host.health();
      return response.status === 503 ? response : null;
    });
    expect(late.body.error.webhooks.backlog).toMatchObject({ status: 'down', pending: 3 });
    expect(late.body.error.webhooks.backlog.oldestPendingAgeSeconds).toBeGreaterThan(1);
    expect(late.body.error.webhooks.message).toMatch(/^backlog: the oldest due delivery has waited [\d.]+ s, over the limit of 1 s$/);
    expect(late.body.error.webhooks.redis.status).toBe('up');

    const worker: TestApp = await startTestApp({ database, dropDatabase: false, webhooks: { controllers: false, queueName } });
    cleanups.push(() => worker.app.close());
    await waitFor('the three deliveries', () => receiver.at('/backlog').length === 3);
    const caughtUp = await waitFor('200 once delivered', async () => {
      const response = await host.health();
      return response.status === 200 ? response : null;
    });
    expect(caughtUp.body.info.webhooks.backlog).toMatchObject({ status: 'up', pending: 0 });
  });
});
