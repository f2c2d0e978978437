import type { WebhookEventTypeDefinition } from '../interfaces/event-type.interface.js';

/**
 * Event types the module itself sends, about an owner's endpoints and deliveries. Hosts cannot emit
 * or declare names under this prefix, and `*` does not select them: an endpoint receives them only
 * when it subscribes by name or with `webhook.*`, so adding them never surprises an existing receiver.
 */
export const RESERVED_EVENT_TYPE_PREFIX = 'webhook.';

export const ENDPOINT_DISABLED_EVENT = 'webhook.endpoint.disabled';
export const ENDPOINT_RECOVERED_EVENT = 'webhook.endpoint.recovered';
export const DELIVERY_EXHAUSTED_EVENT = 'webhook.delivery.exhausted';

const timestamp = { type: 'string', format: 'date-time' };

export const OPERATIONAL_EVENT_TYPES: readonly WebhookEventTypeDefinition[] = [
  {
    name: ENDPOINT_DISABLED_EVENT,
    description: 'One of your endpoints was disabled (it answered 410 Gone, or kept failing); it receives nothing until re-enabled.',
    schema: {
      type: 'object',
      required: ['endpoint_id', 'reason', 'disabled_at'],
      properties: { endpoint_id: { type: 'string' }, reason: { type: 'string' }, disabled_at: timestamp },
    },
  },
  {
    name: ENDPOINT_RECOVERED_EVENT,
    description: 'One of your endpoints that was failing accepted a delivery again.',
    schema: {
      type: 'object',
      required: ['endpoint_id', 'failing_since', 'recovered_at'],
      properties: { endpoint_id: { type: 'string' }, failing_since: timestamp, recovered_at: timestamp },
    },
  },
  {
    name: DELIVERY_EXHAUSTED_EVENT,
    description: 'A delivery to one of your endpoints failed its last scheduled attempt and will not be retried.',
    schema: {
      type: 'object',
      required: ['delivery_id', 'endpoint_id', 'event_id', 'event_type', 'attempts', 'last_error'],
      properties: {
        delivery_id: { type: 'string' },
        endpoint_id: { type: 'string' },
        event_id: { type: 'string' },
        event_type: { type: 'string' },
        attempts: { type: 'integer' },
        last_error: { type: ['string', 'null'] },
      },
    },
  },
];

const OPERATIONAL_NAMES = new Set(OPERATIONAL_EVENT_TYPES.map((type) => type.name));

export function isReservedEventType(type: string): boolean {
  return type.startsWith(RESERVED_EVENT_TYPE_PREFIX);
}

export function isOperationalEventType(type: string): boolean {
  return OPERATIONAL_NAMES.has(type);
}
