import { BullModule, getQueueToken } from '@nestjs/bull';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventCatalog } from './emit/event-catalog.js';
import { RedisConnectionMonitor } from './redis/redis-connection-monitor.js';
import { webhooksRedisProvider } from './redis/webhooks-redis.js';
import { RetryPolicy } from './config/retry-policy.js';
import { dialectFor } from './store/dialects/dialect-for.js';
import { SqlDialect } from './store/dialects/sql-dialect.js';
import { WebhookSigner } from './security/signatures/webhook-signer.js';
import { WriteTransactions } from './store/write-transactions.js';
import { OperationalWebhooks } from './emit/operational-webhooks.js';
import { OperationalHooks } from './worker/operational-hooks.js';
import { WebhookStatsService } from './management/webhook-stats.service.js';
import { WebhookDeliveryService } from './management/webhook-delivery.service.js';
import { DeliveryDispatcher } from './dispatch/delivery-dispatcher.js';
import { DeliveryQueue } from './dispatch/delivery-queue.js';
import { DeliveryRecorder } from './worker/delivery-recorder.js';
import { DeliveryStore } from './store/delivery-store.js';
import { EndpointHealth } from './worker/endpoint-health.js';
import { DeliveryWorker } from './worker/delivery-worker.js';
import { DeliveryAttempt } from './worker/delivery-attempt.js';
import { WebhookSender } from './worker/webhook-sender.js';
import { WebhookEndpointService } from './management/webhook-endpoint.service.js';
import { WEBHOOK_ENTITIES } from './store/entities/index.js';
import { createWebhooksController } from './api/webhooks.controller.js';
import { WebhooksAuthGuard } from './api/webhooks-auth.guard.js';
import { WebhooksRateLimitGuard } from './api/webhooks-rate-limit.guard.js';
import { createPortalController } from './portal/portal.controller.js';
import { WebhookPortal } from './portal/webhook-portal.service.js';
import type { WebhooksModuleShapeOptions } from './interfaces/webhooks-options.interface.js';
import {
  ConfigurableWebhooksModule,
  WEBHOOKS_ASYNC_OPTIONS_TYPE,
  WEBHOOKS_MODULE_OPTIONS,
  WEBHOOKS_OPTIONS_TYPE,
} from './webhooks.module-definition.js';
import { assertKnownAsyncOptions, assertKnownFactoryOptions } from './config/option-names.js';
import { resolveWebhooksOptions } from './config/resolve-options.js';
import type { ResolvedWebhooksOptions } from './config/resolved-options.js';
import { DatabaseEventStore } from './emit/database-event-store.js';
import { EventBatcher } from './emit/event-batcher.js';
import { EventStore } from './emit/event-store.js';
import { EventWriter } from './emit/event-writer.js';
import { TransactionOutbox } from './emit/transaction-outbox.js';
import { WebhookPublisher } from './emit/webhook-publisher.js';
import { DeliveryReconciler } from './maintenance/delivery-reconciler.js';
import { RetentionPurger } from './maintenance/retention-purger.js';
import { bullRootConfigCheck, hostDataSourceProvider } from './config/host-dependencies.js';
import { EndpointSecrets } from './security/endpoint-secrets.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS, WEBHOOKS_QUEUE, WEBHOOKS_REDIS } from './webhooks.constants.js';
import { WebhooksOptionsError } from './webhooks.errors.js';
import { DeliveryBacklog } from './store/delivery-backlog.js';
import { webhooksTelemetryProvider } from './telemetry/telemetry-provider.js';

/**
 * Outgoing webhooks for a Nest app. Uses the host's TypeORM data source and Bull connection; adds the
 * management API, the publisher and the delivery worker. Global unless `isGlobal: false`, so that
 * `WebhookPublisher` can be injected anywhere once the module is imported at the root.
 */
@Module({})
export class WebhooksModule extends ConfigurableWebhooksModule {
  /** Options are checked here, so a bad one fails the boot before anything starts. */
  static override forRoot(options: typeof WEBHOOKS_OPTIONS_TYPE): DynamicModule {
    const resolved = resolveWebhooksOptions(options);
    return build(super.forRoot(options), resolved, pickShape(options));
  }

  /**
   * Options from `useFactory`, `useClass` or `useExisting`, checked when they arrive. The shape
   * options are fixed now, beside them: they decide the providers and routes.
   */
  static override forRootAsync(options: typeof WEBHOOKS_ASYNC_OPTIONS_TYPE): DynamicModule {
    const sources = [options?.useFactory, options?.useClass, options?.useExisting].filter((source) => source !== undefined);
    if (sources.length !== 1 || (options.useFactory !== undefined && typeof options.useFactory !== 'function')) {
      throw new WebhooksOptionsError('forRootAsync needs exactly one of useFactory: (...inject) => options, useClass or useExisting');
    }
    assertKnownAsyncOptions(options);
    const shapeOptions = pickShape(options);
    // The shape is checked now; `authenticate` arrives with the rest, so it is not required yet.
    const shape = resolveWebhooksOptions({ ...shapeOptions, controllers: false });
    return build(super.forRootAsync(options), { ...shape, controllers: shapeOptions.controllers ?? true }, shapeOptions);
  }
}

function pickShape(options: WebhooksModuleShapeOptions): WebhooksModuleShapeOptions {
  const { path, controllers, processor, dataSourceName, queueName, isGlobal } = options;
  const shape = { path, controllers, processor, dataSourceName, queueName, isGlobal };
  return Object.fromEntries(Object.entries(shape).filter(([, value]) => value !== undefined));
}

/** The resolved options, from what `forRoot` or the async source supplied and the shape options beside it. */
function resolvedOptionsProvider(shapeOptions: WebhooksModuleShapeOptions): Provider {
  return {
    provide: WEBHOOKS_OPTIONS,
    inject: [WEBHOOKS_MODULE_OPTIONS],
    useFactory: (supplied: unknown) => {
      if (supplied === null || typeof supplied !== 'object') {
        throw new WebhooksOptionsError(
          `forRootAsync's options source must return an options object, got ${supplied === null ? 'null' : typeof supplied}`,
        );
      }
      assertKnownFactoryOptions(supplied);
      return resolveWebhooksOptions({ ...supplied, ...shapeOptions });
    },
  };
}

/** The module around what the builder made (the raw options provider, the async imports). */
function build(definition: DynamicModule, shape: ResolvedWebhooksOptions, shapeOptions: WebhooksModuleShapeOptions): DynamicModule {
  // Called for its effect only: it lists the entities for the host's `autoLoadEntities`. The module it
  // returns is not imported: nothing here injects its repositories, and without the host's data source
  // their resolution error would hide the clearer one from `hostDataSourceProvider`.
  TypeOrmModule.forFeature(WEBHOOK_ENTITIES, shape.dataSourceName);
  const providers: Provider[] = [
    ...(definition.providers ?? []),
    resolvedOptionsProvider(shapeOptions),
    hostDataSourceProvider(shape.dataSourceName),
    bullRootConfigCheck,
    { provide: WEBHOOKS_QUEUE, useExisting: getQueueToken(shape.queueName) },
    webhooksRedisProvider,
    RedisConnectionMonitor,
    { provide: EventCatalog, inject: [WEBHOOKS_OPTIONS], useFactory: (o: ResolvedWebhooksOptions) => new EventCatalog(o.eventTypes) },
    { provide: SqlDialect, inject: [WEBHOOKS_DATA_SOURCE], useFactory: dialectFor },
    { provide: RetryPolicy, inject: [WEBHOOKS_OPTIONS], useFactory: (o: ResolvedWebhooksOptions) => new RetryPolicy(o) },
    WriteTransactions,
    OperationalWebhooks,
    OperationalHooks,
    DeliveryQueue,
    DeliveryDispatcher,
    EndpointSecrets,
    EventWriter,
    EventBatcher,
    TransactionOutbox,
    { provide: EventStore, useClass: DatabaseEventStore },
    WebhookPublisher,
    WebhookEndpointService,
    WebhookDeliveryService,
    WebhookStatsService,
    DeliveryBacklog,
    webhooksTelemetryProvider,
    WebhookPortal,
  ];
  if (shape.processor) {
    providers.push(
      {
        provide: WebhookSender,
        inject: [WEBHOOKS_OPTIONS],
        useFactory: (o: ResolvedWebhooksOptions) =>
          new WebhookSender({
            timeoutMs: o.delivery.timeoutMs,
            responseBodyLimitBytes: o.delivery.responseBodyLimitBytes,
            allowHttp: o.security.allowHttp,
            allowPrivateNetworks: o.security.allowPrivateNetworks,
            resolver: o.security.resolveHost,
          }),
      },
      WebhookSigner,
      DeliveryStore,
      EndpointHealth,
      DeliveryRecorder,
      DeliveryAttempt,
      DeliveryWorker,
      DeliveryReconciler,
      RetentionPurger,
    );
  }
  if (shape.controllers) providers.push(WebhooksAuthGuard, WebhooksRateLimitGuard);
  return {
    ...definition,
    global: shape.isGlobal,
    imports: [...(definition.imports ?? []), BullModule.registerQueue({ name: shape.queueName })],
    // The portal's first: its routes must be matched before the API's `GET :id`. It answers 404 while `portal` is off,
    // which forRootAsync only learns after the routes are fixed.
    controllers: shape.controllers ? [createPortalController(shape.path), createWebhooksController(shape.path)] : [],
    providers,
    exports: [
      WebhookPublisher,
      WebhookEndpointService,
      WebhookDeliveryService,
      WebhookStatsService,
      WebhookPortal,
      EventCatalog,
      WEBHOOKS_OPTIONS,
      WEBHOOKS_DATA_SOURCE,
      WEBHOOKS_REDIS,
      // For the health indicator (nestjs-webhooks/health).
      RedisConnectionMonitor,
      DeliveryBacklog,
      ...(shape.processor ? [DeliveryReconciler, RetentionPurger, DeliveryWorker] : []),
    ],
  };
}
