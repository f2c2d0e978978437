import { BullModule, type BullRootModuleOptions } from '@nestjs/bull';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  WebhookPublisher,
  WebhooksModule,
  WebhooksOptionsError,
  WebhooksSetupError,
  InjectWebhooksOptions,
  InjectWebhooksRedis,
  OPERATIONAL_EVENT_TYPES,
  type ResolvedWebhooksOptions,
  type WebhooksModuleRootOptions,
  type WebhooksOptionsFactory,
  type WebhooksRedis,
} from '../lib/index.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { bearerAuthentication, deleteQueueKeys, REDIS_URL, testWebhookOptions, uniqueOwner } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';

/**
 * For boots that are meant to fail: the queue's Redis client never connects, so nothing is left open
 * by an app that never finished starting (and so cannot be closed).
 */
const UNCONNECTED_BULL = BullModule.forRoot({
  redis: { host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379), lazyConnect: true },
  skipVersionCheck: true, // Bull's own INFO would connect
} as BullRootModuleOptions);

/** What a forRootAsync module's options resolve to: its factory's result, checked and resolved, as at boot. */
async function resolveAsyncOptions(module: DynamicModule): Promise<unknown> {
  const provider = (token: string) => module.providers!.find((candidate: any) => candidate.provide === token) as any;
  return provider('nestjs-webhooks:options').useFactory(await provider('nestjs-webhooks:module-options').useFactory());
}

/**
 * The error that a host importing `webhooks` (with a database of its own unless `withDatabase` is false,
 * and a Bull connection that never opens) fails to boot with; a boot that succeeds fails the test.
 */
async function bootFailure(webhooks: DynamicModule, withDatabase = true): Promise<Error> {
  const database = withDatabase ? await createTestDatabase() : null;
  // An app that fails to start is never closed, and TypeORM may still be connecting when it fails:
  // keep hold of the data source to close it here, and let it give up at once rather than retry.
  const connecting: Array<Promise<DataSource>> = [];
  const typeOrm = database
    ? [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...database.options, autoLoadEntities: true, retryAttempts: 0 }),
          dataSourceFactory: (options) => {
            const dataSource = new DataSource(options!).initialize();
            connecting.push(dataSource);
            return dataSource;
          },
        }),
      ]
    : [];
  @Module({ imports: [...typeOrm, UNCONNECTED_BULL, webhooks] })
  class HostModule {}
  try {
    const app = await NestFactory.create(HostModule, { logger: false, abortOnError: false }).catch((error: Error) => error);
    if (app instanceof Error) return app;
    await app.close();
    throw new Error('the app booted');
  } finally {
    for (const outcome of await Promise.allSettled(connecting)) {
      if (outcome.status === 'fulfilled' && outcome.value.isInitialized) await outcome.value.destroy();
    }
    await database?.drop();
  }
}

describe('WebhooksModule options', () => {
  it('refuses to boot with controllers on and no authenticate', () => {
    expect(() => WebhooksModule.forRoot({ eventTypes: ['a.b'] })).toThrow(
      new WebhooksOptionsError(
        'option "authenticate" is required while controllers are on: pass authenticate(req) returning { ownerId } or null, ' +
          'or set controllers: false for a worker-only instance',
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
    [
      'delivery.timeoutMs',
      { delivery: { timeoutMs: '15s' } },
      'option "delivery.timeoutMs" must be an integer from 10 to 300000, got "15s"',
    ],
    ['delivery.concurrency', { delivery: { concurrency: 0 } }, 'option "delivery.concurrency" must be an integer from 1 to 10000, got 0'],
    ['security.allowHttp', { security: { allowHttp: 'true' } }, 'option "security.allowHttp" must be true or false, got "true"'],
    ['security.encryptionKey', { security: { encryptionKey: 'short' } }, 'option "security.encryptionKey" must be 32 random bytes'],
    ['rateLimit.write.limit', { rateLimit: { write: { limit: 0, windowMs: 1000 } } }, 'option "rateLimit.write.limit" must be an integer'],
    ['maxPayloadBytes', { maxPayloadBytes: 1e9 }, 'option "maxPayloadBytes" must be an integer from 64 to 16777216'],
    ['signing', { signing: 5 }, 'option "signing" must be an object'],
  ])('names the bad option: %s', (_, options, message) => {
    expect(() => WebhooksModule.forRoot({ authenticate: bearerAuthentication, ...options })).toThrow(message);
  });

  it("validates what forRootAsync's factory returns before anything uses it", async () => {
    const module = WebhooksModule.forRootAsync({ useFactory: async () => ({ eventTypes: ['x.y'] }) });
    await expect(resolveAsyncOptions(module)).rejects.toThrow('option "authenticate" is required');
    const workerOnly = WebhooksModule.forRootAsync({ controllers: false, useFactory: () => ({ delivery: { timeoutMs: -1 } }) });
    await expect(resolveAsyncOptions(workerOnly)).rejects.toThrow('option "delivery.timeoutMs" must be an integer');
    expect(() => WebhooksModule.forRootAsync({ path: 'bad path', useFactory: () => ({}) } as any)).toThrow(
      'option "path" must be a plain route prefix',
    );
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
      const types = await request(app.getHttpServer())
        .get('/api/hooks/event-types')
        .set('Authorization', `Bearer owner:${owner}`)
        .expect(200);
      expect(types.body.data.map((t: any) => t.name)).toEqual(['invoice.paid', ...OPERATIONAL_EVENT_TYPES.map((t) => t.name)]);
    } finally {
      await app.close();
      await deleteQueueKeys(queueName);
    }

    await deleteQueueKeys(queueName);
    await database.drop();
  });

  it('takes its options from a class (useClass or useExisting), and can be kept out of the global scope', async () => {
    const database = await createTestDatabase();
    const queueNames: string[] = [];

    @Injectable()
    class WebhooksConfig implements WebhooksOptionsFactory {
      createWebhooksOptions() {
        return { authenticate: bearerAuthentication, eventTypes: ['invoice.paid'] };
      }
    }
    @Module({ providers: [WebhooksConfig], exports: [WebhooksConfig] })
    class ConfigModule {}

    /** A host service outside the webhooks module that reads the module's tokens. */
    @Injectable()
    class Inspector {
      constructor(
        @InjectWebhooksOptions() readonly options: ResolvedWebhooksOptions,
        @InjectWebhooksRedis() readonly redis: WebhooksRedis,
      ) {}
    }

    const boot = async (webhooks: (queueName: string) => DynamicModule, extra: { providers?: any[] } = {}) => {
      const queueName = testWebhookOptions().queueName!;
      queueNames.push(queueName);
      @Module({
        imports: [
          TypeOrmModule.forRoot({ ...database.options, autoLoadEntities: true }),
          BullModule.forRoot({ redis: REDIS_URL }),
          webhooks(queueName),
        ],
        providers: extra.providers ?? [],
      })
      class HostModule {}
      const app = await NestFactory.create(HostModule, { logger: false });
      await app.init();
      return app;
    };
    try {
      const byClass = await boot((queueName) => WebhooksModule.forRootAsync({ queueName, processor: false, useClass: WebhooksConfig }), {
        providers: [Inspector],
      });
      const owner = uniqueOwner();
      const types = await request(byClass.getHttpServer())
        .get('/v1/webhooks/event-types')
        .set('Authorization', `Bearer owner:${owner}`)
        .expect(200);
      expect(types.body.data.map((t: any) => t.name)).toEqual(['invoice.paid', ...OPERATIONAL_EVENT_TYPES.map((t) => t.name)]);
      const inspector = byClass.get(Inspector);
      expect(inspector.options.eventTypes).toEqual(['invoice.paid']);
      expect(inspector.options.processor).toBe(false);
      expect(await inspector.redis.client.ping()).toBe('PONG');
      expect(inspector.redis.key('x')).toBe(`bull:${queueNames[0]}:x`);
      await byClass.close();

      const existing = await boot((queueName) =>
        WebhooksModule.forRootAsync({ queueName, processor: false, imports: [ConfigModule], useExisting: WebhooksConfig }),
      );
      await request(existing.getHttpServer()).get('/v1/webhooks').set('Authorization', `Bearer owner:${owner}`).expect(200);
      await existing.close();

      // Global unless the host says otherwise (then only modules that import it can inject its services).
      expect(WebhooksModule.forRoot(testWebhookOptions()).global).toBe(true);
      expect(WebhooksModule.forRoot({ ...testWebhookOptions(), isGlobal: false }).global).toBe(false);
      expect(WebhooksModule.forRootAsync({ isGlobal: false, useClass: WebhooksConfig }).global).toBe(false);
    } finally {
      for (const queueName of queueNames) await deleteQueueKeys(queueName);
      await database.drop();
    }
  });

  describe('unknown option names', () => {
    const hook = () => undefined;

    it.each<[string, any]>([
      ['unknown option "delivery.timeOutMs": did you mean delivery.timeoutMs?', { delivery: { timeOutMs: 5_000 } }],
      ['unknown option "retry.schedul": did you mean retry.schedule?', { retry: { schedul: [1_000] } }],
      ['unknown option "security.allowHTTP": did you mean security.allowHttp?', { security: { allowHTTP: true } }],
      ['unknown option "signing.rotationOverlap": did you mean signing.rotationOverlapMs?', { signing: { rotationOverlap: 0 } }],
      ['unknown option "rateLimit.writes": did you mean rateLimit.write?', { rateLimit: { writes: { limit: 1, windowMs: 1_000 } } }],
      [
        'unknown option "rateLimit.read.window": did you mean rateLimit.read.windowMs?',
        { rateLimit: { read: { limit: 1, window: 1_000 } } },
      ],
      ['unknown option "reconciler.interval": did you mean reconciler.intervalMs?', { reconciler: { interval: 1_000 } }],
      ['unknown option "disable.afterFailingMs": did you mean disable.afterFailingForMs?', { disable: { afterFailingMs: 1_000 } }],
      ['unknown option "retention.day": did you mean retention.days?', { retention: { day: 7 } }],
      ['unknown option "hooks.onEndpointDisable": did you mean hooks.onEndpointDisabled?', { hooks: { onEndpointDisable: hook } }],
      ['unknown option "redis.required": valid ones are redis.requiredAtBoot', { redis: { required: true } }],
      ['unknown option "evenTypes": did you mean eventTypes?', { evenTypes: ['user.created'] }],
      [
        'unknown option "eventTypes[0].descripton": did you mean eventTypes[0].description?',
        { eventTypes: [{ name: 'a.b', descripton: 'x' }] },
      ],
      [
        'unknown option "workers": valid ones are path, controllers, processor, dataSourceName, queueName, isGlobal, authenticate,',
        { workers: 4 },
      ],
    ])('fails the boot on a misspelt key, naming it and the nearest valid one: %s', (message, options) => {
      const boot = () => WebhooksModule.forRoot({ authenticate: bearerAuthentication, ...options });
      expect(boot).toThrow(WebhooksOptionsError);
      expect(boot).toThrow(`WebhooksModule: ${message}`);
    });

    it("checks forRootAsync's own keys", () => {
      expect(() => WebhooksModule.forRootAsync({ injects: [], useFactory: () => ({}) } as any)).toThrow(
        'unknown option "injects" of WebhooksModule.forRootAsync: did you mean inject?',
      );
      expect(() => WebhooksModule.forRootAsync({ useValue: {}, useFactory: () => ({}) } as any)).toThrow(
        'unknown option "useValue" of WebhooksModule.forRootAsync: ' +
          'valid ones are imports, inject, useFactory, useClass, useExisting, path, controllers, processor, ' +
          'dataSourceName, queueName, isGlobal',
      );
      expect(() => WebhooksModule.forRootAsync({ useClass: class {}, useFactory: () => ({}) } as any)).toThrow(
        'forRootAsync needs exactly one of useFactory: (...inject) => options, useClass or useExisting',
      );
    });

    it.each<[string, any]>([
      [
        'unknown option "delivery.timeOutMs": did you mean delivery.timeoutMs?',
        { authenticate: bearerAuthentication, delivery: { timeOutMs: 5 } },
      ],
      [
        'unknown option "authenticat" in what forRootAsync\'s useFactory returned: did you mean authenticate?',
        { authenticat: bearerAuthentication },
      ],
      [
        'option "processor" decides the module\'s shape, so useFactory cannot return it: pass it to forRootAsync beside useFactory',
        { processor: false },
      ],
    ])("checks what forRootAsync's useFactory returns: %s", async (message, returned) => {
      await expect(resolveAsyncOptions(WebhooksModule.forRootAsync({ useFactory: () => returned }))).rejects.toThrow(message);
    });

    it('fails a real boot through forRootAsync on a misspelt key', async () => {
      const failure = await bootFailure(
        WebhooksModule.forRootAsync({ useFactory: async () => ({ authenticate: bearerAuthentication, retention: { dayz: 7 } }) as any }),
      );
      expect(failure).toBeInstanceOf(WebhooksOptionsError);
      expect(failure.message).toBe('WebhooksModule: unknown option "retention.dayz": did you mean retention.days?');
    });
  });

  describe('what the host app must register', () => {
    it("fails the boot without a TypeORM data source, saying what to add, before Nest's own resolution error", async () => {
      const failure = await bootFailure(WebhooksModule.forRoot(testWebhookOptions()), false);
      expect(failure).toBeInstanceOf(WebhooksSetupError);
      expect(failure.message).toBe(
        'WebhooksModule: needs the default TypeORM data source, and the app registers none: ' +
          "add TypeOrmModule.forRoot({ ... }) (or forRootAsync) to the root module's imports",
      );
    });

    it('names the dataSourceName it looked for when that data source is missing', async () => {
      const failure = await bootFailure(WebhooksModule.forRoot(testWebhookOptions({ dataSourceName: 'webhooks' })));
      expect(failure).toBeInstanceOf(WebhooksSetupError);
      expect(failure.message).toContain('needs the TypeORM data source named "webhooks" (option dataSourceName)');
      expect(failure.message).toContain("add TypeOrmModule.forRoot({ name: 'webhooks', ... })");
    });

    it('warns at boot when BullModule.forRoot is missing, and not when it is there', async () => {
      const database = await createTestDatabase({ file: true });
      const boot = async (imports: any[], logger: CapturingLogger) => {
        @Module({ imports: [TypeOrmModule.forRoot({ ...database.options, autoLoadEntities: true }), ...imports] })
        class HostModule {}
        const app = await NestFactory.create(HostModule, { logger });
        await app.init();
        await app.close();
      };
      const [withoutBull, withBull] = [new CapturingLogger(), new CapturingLogger()];
      const queueName = testWebhookOptions().queueName!;
      try {
        // Without forRoot, @nestjs/bull connects to 127.0.0.1:6379, the shared Redis of this suite.
        await boot([WebhooksModule.forRoot(testWebhookOptions({ queueName }))], withoutBull);
        await boot([BullModule.forRoot({ redis: REDIS_URL }), WebhooksModule.forRoot(testWebhookOptions({ queueName }))], withBull);
      } finally {
        await deleteQueueKeys(queueName);
        await database.drop();
      }
      expect(withoutBull.find('warn', 'WebhooksModule').map((line) => line.message)).toEqual([
        "BullModule.forRoot is not registered, so the webhooks queue uses Bull's default Redis at 127.0.0.1:6379. " +
          "Add BullModule.forRoot({ redis: process.env.REDIS_URL }) (or forRootAsync) to the root module's imports.",
      ]);
      expect(withBull.find('warn', 'WebhooksModule')).toEqual([]);
    });
  });
});
