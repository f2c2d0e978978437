import { BullModule } from '@nestjs/bull';
import { Module, type INestApplication, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { WebhookPublisher, WebhooksModule, type WebhookPrincipal, type WebhooksModuleRootOptions } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { assertResponsesMatchOpenApi, openApiResponseRecorder } from './openapi-responses.js';

// Every management answer of every e2e test is checked against openapi.json; a mismatch fails the test.
afterEach(assertResponsesMatchOpenApi);

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Test credentials: `Bearer owner:<id>` is a full-access caller, `Bearer read:<id>` may only read,
 * `Bearer nobody:<id>` has no webhook permissions; anything else is unauthenticated.
 */
export function bearerAuthentication(req: { headers: Record<string, string | undefined> }): WebhookPrincipal | null {
  const match = /^Bearer (owner|read|nobody):(.+)$/.exec(req.headers.authorization ?? '');
  if (!match) return null;
  const [, role, ownerId] = match;
  if (role === 'owner') return { ownerId };
  return { ownerId, permissions: role === 'read' ? ['webhooks:read'] : [] };
}

export function uniqueOwner(label = 'owner'): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

/** Fast, permissive settings for tests against a receiver on loopback. */
export function testWebhookOptions(overrides: Partial<WebhooksModuleRootOptions> = {}): WebhooksModuleRootOptions {
  return {
    queueName: `wh-test-${randomBytes(5).toString('hex')}`,
    authenticate: bearerAuthentication,
    eventTypes: ['user.created', 'user.updated', 'user.deleted', 'order.paid', 'order.refunded'],
    security: { allowHttp: true, allowPrivateNetworks: true },
    retry: { schedule: [200, 400] },
    delivery: { timeoutMs: 2_000 },
    ...overrides,
  };
}

export interface TestApp {
  app: INestApplication;
  publisher: WebhookPublisher;
  dataSource: DataSource;
  database: TestDatabase;
  queueName: string;
  /** supertest against the app, authenticated as `owner:<ownerId>` unless `token` is given. */
  api(ownerId: string, token?: string): ReturnType<typeof authenticatedAgent>;
  close(): Promise<void>;
}

export async function startTestApp(
  options: {
    webhooks?: Partial<WebhooksModuleRootOptions>;
    database?: TestDatabase;
    dropDatabase?: boolean;
    redis?: string | RedisOptions;
    /** Receives the app's log lines (see `CapturingLogger`); none are kept or shown by default. */
    logger?: LoggerService;
  } = {},
): Promise<TestApp> {
  const redis = options.redis ?? REDIS_URL;
  const database = options.database ?? (await createTestDatabase());
  const webhooks = testWebhookOptions(options.webhooks);

  @Module({
    imports: [
      TypeOrmModule.forRoot({ ...database.options, autoLoadEntities: true }),
      BullModule.forRoot({ redis }),
      WebhooksModule.forRoot(webhooks),
    ],
  })
  class TestAppModule {}

  const logger: LoggerService | LogLevel[] | false = options.logger ?? (process.env.TEST_LOGS ? ['error', 'warn', 'log'] : false);
  const app = await NestFactory.create(TestAppModule, { logger });
  app.use(openApiResponseRecorder);
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close().catch(() => undefined);
    if (options.dropDatabase !== false) await database.drop();
    throw error;
  }
  const queueName = webhooks.queueName!;
  return {
    app,
    publisher: app.get(WebhookPublisher),
    dataSource: app.get(DataSource),
    database,
    queueName,
    api: (ownerId, token) => authenticatedAgent(app, token ?? `Bearer owner:${ownerId}`),
    close: async () => {
      await app.close();
      if (redis === REDIS_URL) await deleteQueueKeys(queueName);
      if (options.dropDatabase !== false) await database.drop();
      assertResponsesMatchOpenApi();
    },
  };
}

function authenticatedAgent(app: INestApplication, authorization: string) {
  const server = app.getHttpServer();
  const withAuth = (test: request.Test) => (authorization ? test.set('Authorization', authorization) : test);
  return {
    get: (path: string) => withAuth(request(server).get(path)),
    post: (path: string) => withAuth(request(server).post(path)),
    patch: (path: string) => withAuth(request(server).patch(path)),
    delete: (path: string) => withAuth(request(server).delete(path)),
  };
}

export async function deleteQueueKeys(queueName: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `bull:${queueName}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
