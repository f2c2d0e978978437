import { WebhookDeliveryAttemptEntity } from './webhook-delivery-attempt.entity.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhookEndpointEntity } from './webhook-endpoint.entity.js';
import { WebhookEventEntity } from './webhook-event.entity.js';

export * from './delivery-status.js';
export * from './webhook-delivery-attempt.entity.js';
export * from './webhook-delivery.entity.js';
export * from './webhook-endpoint.entity.js';
export * from './webhook-event.entity.js';

/** For hosts that list entities by hand instead of `autoLoadEntities`. */
export const WEBHOOK_ENTITIES = [WebhookEndpointEntity, WebhookEventEntity, WebhookDeliveryEntity, WebhookDeliveryAttemptEntity];
