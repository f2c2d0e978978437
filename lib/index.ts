export { WebhooksModule } from './webhooks.module.js';
export { WebhookPublisher, DEFAULT_OWNER_ID, type EmitOptions, type EmitManyItem, type EmittedEvent } from './emit/webhook-publisher.js';
export {
  WebhookEndpointService,
  type WebhookEndpointInput,
  type WebhookEndpointPatch,
  type WebhookEndpointWithSecret,
} from './management/webhook-endpoint.service.js';
export type { WebhookEndpointView } from './management/webhook-endpoint.view.js';
export { WebhookDeliveryService } from './management/webhook-delivery.service.js';
export { WebhookStatsService } from './management/webhook-stats.service.js';
export type { WebhookStatsView } from './management/webhook-stats.view.js';
export { WebhookPortal, type PortalSession, type PortalSessionOptions } from './portal/webhook-portal.service.js';
export type { WebhookDeliveryView, WebhookDeliveryDetailView, WebhookDeliveryAttemptView } from './management/webhook-delivery.view.js';
export type { Page } from './store/pagination.js';
export {
  WEBHOOK_ENTITIES,
  WebhookEndpointEntity,
  WebhookEventEntity,
  WebhookDeliveryEntity,
  WebhookDeliveryAttemptEntity,
  DELIVERY_STATUSES,
  type DeliveryStatus,
} from './store/entities/index.js';
export {
  WEBHOOK_MIGRATIONS,
  CreateWebhookTables1764400000000,
  AddAttemptEndpoint1764500000000,
  AddEventTraceContext1764600000000,
} from './store/migrations/index.js';
export * from './interfaces/index.js';
export * from './webhooks.errors.js';
export { DeliveryReconciler } from './maintenance/delivery-reconciler.js';
export { RetentionPurger, type PurgeCounts } from './maintenance/retention-purger.js';
export {
  TEST_EVENT_TYPE,
  PERMISSION_READ,
  PERMISSION_WRITE,
  WEBHOOKS_OPTIONS,
  WEBHOOKS_DATA_SOURCE,
  WEBHOOKS_REDIS,
} from './webhooks.constants.js';
export { WEBHOOKS_MODULE_OPTIONS } from './webhooks.module-definition.js';
export { InjectWebhooksOptions, InjectWebhooksDataSource, InjectWebhooksRedis } from './webhooks.decorators.js';
export type { ResolvedWebhooksOptions } from './config/resolved-options.js';
export type { WebhooksRedis } from './redis/webhooks-redis.js';
export {
  OPERATIONAL_EVENT_TYPES,
  ENDPOINT_DISABLED_EVENT,
  ENDPOINT_RECOVERED_EVENT,
  DELIVERY_EXHAUSTED_EVENT,
} from './emit/operational-event-types.js';
