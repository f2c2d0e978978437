export { WebhooksModule } from './webhooks.module.js';
export { WebhookPublisher, DEFAULT_OWNER_ID, type EmitOptions, type EmitManyItem, type EmittedEvent } from './publisher/webhook-publisher.js';
export { WebhookEndpointService, type WebhookEndpointInput, type WebhookEndpointPatch, type WebhookEndpointWithSecret } from './endpoints/webhook-endpoint.service.js';
export type { WebhookEndpointView } from './endpoints/webhook-endpoint.view.js';
export { WebhookDeliveryService } from './deliveries/webhook-delivery.service.js';
export type { WebhookDeliveryView, WebhookDeliveryDetailView, WebhookDeliveryAttemptView } from './deliveries/webhook-delivery.view.js';
export type { Page } from './pagination.js';
export {
  WEBHOOK_ENTITIES,
  WebhookEndpointEntity,
  WebhookEventEntity,
  WebhookDeliveryEntity,
  WebhookDeliveryAttemptEntity,
  DELIVERY_STATUSES,
  type DeliveryStatus,
} from './entities/index.js';
export { WEBHOOK_MIGRATIONS, CreateWebhookTables1764400000000 } from './migrations/index.js';
export * from './interfaces/index.js';
export * from './webhooks.errors.js';
export { DeliveryReconciler } from './reconciler/delivery-reconciler.js';
export { RetentionPurger, type PurgeCounts } from './retention/retention-purger.js';
export { TEST_EVENT_TYPE, PERMISSION_READ, PERMISSION_WRITE } from './webhooks.constants.js';
