import { BullModule, getQueueToken } from '@nestjs/bull';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventCatalog } from './emit/event-catalog.js';
import { RedisConnectionMonitor } from './redis/redis-connection-monitor.js';
import { RetryPolicy } from './config/retry-policy.js';
import { dialectFor } from './store/dialects/dialect-for.js';
import { SqlDialect } from './store/dialects/sql-dialect.js';
import { WebhookSigner } from './security/signatures/webhook-signer.js';
import { WriteTransactions } from './store/write-transactions.js';
import { OperationalHooks } from './worker/operational-hooks.js';
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
import type { WebhooksModuleAsyncOptions, WebhooksModuleRootOptions, WebhooksModuleShapeOptions } from './interfaces/webhooks-options.interface.js';
import { assertKnownAsyncOptions, assertKnownFactoryOptions } from './config/option-names.js';
import { resolveWebhooksOptions } from './config/resolve-options.js';
import type { ResolvedWebhooksOptions } from './config/resolved-options.js';
import { EventBatcher } from './emit/event-batcher.js';
import { EventWriter } from './emit/event-writer.js';
import { TransactionOutbox } from './emit/transaction-outbox.js';
import { WebhookPublisher } from './emit/webhook-publisher.js';
import { DeliveryReconciler } from './maintenance/delivery-reconciler.js';
import { RetentionPurger } from './maintenance/retention-purger.js';
import { bullRootConfigCheck, hostDataSourceProvider } from './config/host-dependencies.js';
import { EndpointSecrets } from './security/endpoint-secrets.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS, WEBHOOKS_QUEUE } from './webhooks.constants.js';
import { WebhooksOptionsError } from './webhooks.errors.js';

/**
 * Outgoing webhooks for a Nest app. Uses the host's TypeORM data source and Bull connection; adds the
 * management API, the publisher and the delivery worker. Global, so `WebhookPublisher` can be
 * injected anywhere once the module is imported at the root.
 */
@Module({})
export class WebhooksModule {
  static forRoot(options: WebhooksModuleRootOptions): DynamicModule {
    const resolved = resolveWebhooksOptions(options);
    return build(resolved, { provide: WEBHOOKS_OPTIONS, useValue: resolved });
  }

  static forRootAsync(options: WebhooksModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function') {
      throw new WebhooksOptionsError('forRootAsync needs useFactory: (...inject) => options');
    }
    assertKnownAsyncOptions(options);
    const { imports, inject, useFactory, ...shapeOptions } = options;
    // Shape is fixed now (it decides providers and routes); the rest is validated when the factory runs.
    const shape = resolveWebhooksOptions({ ...shapeOptions, controllers: false });
    const withControllers = { ...shape, controllers: shapeOptions.controllers ?? true };
    return build(
      withControllers,
      {
        provide: WEBHOOKS_OPTIONS,
        inject: inject ?? [],
        useFactory: async (...args: unknown[]) => {
          const fromFactory: unknown = await useFactory(...args);
          if (fromFactory === null || typeof fromFactory !== 'object') {
            throw new WebhooksOptionsError(`forRootAsync's useFactory must return an options object, got ${typeof fromFactory}`);
          }
          assertKnownFactoryOptions(fromFactory);
          return resolveWebhooksOptions({ ...fromFactory, ...pickShape(shapeOptions) });
        },
      },
      imports,
    );
  }
}

function pickShape(options: WebhooksModuleShapeOptions): WebhooksModuleShapeOptions {
  const { path, controllers, processor, dataSourceName, queueName } = options;
  return Object.fromEntries(Object.entries({ path, controllers, processor, dataSourceName, queueName }).filter(([, value]) => value !== undefined));
}

function build(shape: ResolvedWebhooksOptions, optionsProvider: Provider, imports: DynamicModule['imports'] = []): DynamicModule {
  // Called for its effect only: it lists the entities for the host's `autoLoadEntities`. The module it
  // returns is not imported: nothing here injects its repositories, and without the host's data source
  // their resolution error would hide the clearer one from `hostDataSourceProvider`.
  TypeOrmModule.forFeature(WEBHOOK_ENTITIES, shape.dataSourceName);
  const providers: Provider[] = [
    optionsProvider,
    hostDataSourceProvider(shape.dataSourceName),
    bullRootConfigCheck,
    { provide: WEBHOOKS_QUEUE, useExisting: getQueueToken(shape.queueName) },
    RedisConnectionMonitor,
    { provide: EventCatalog, inject: [WEBHOOKS_OPTIONS], useFactory: (o: ResolvedWebhooksOptions) => new EventCatalog(o.eventTypes) },
    { provide: SqlDialect, inject: [WEBHOOKS_DATA_SOURCE], useFactory: dialectFor },
    { provide: RetryPolicy, inject: [WEBHOOKS_OPTIONS], useFactory: (o: ResolvedWebhooksOptions) => new RetryPolicy(o) },
    WriteTransactions,
    OperationalHooks,
    DeliveryQueue,
    DeliveryDispatcher,
    EndpointSecrets,
    EventWriter,
    EventBatcher,
    TransactionOutbox,
    WebhookPublisher,
    WebhookEndpointService,
    WebhookDeliveryService,
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
    module: WebhooksModule,
    global: true,
    imports: [...imports, BullModule.registerQueue({ name: shape.queueName })],
    controllers: shape.controllers ? [createWebhooksController(shape.path)] : [],
    providers,
    exports: [WebhookPublisher, WebhookEndpointService, WebhookDeliveryService, EventCatalog, ...(shape.processor ? [DeliveryReconciler, RetentionPurger] : [])],
  };
}
