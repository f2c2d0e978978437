import type { LeasedDelivery } from '../store/delivery-store.js';
import { USER_AGENT } from '../webhooks.constants.js';

/**
 * The request headers of one attempt, as receivers see them: the body's type and our agent, the
 * signature headers the signer made, and what names this delivery and attempt.
 */
export function deliveryHeaders(
  delivery: Pick<LeasedDelivery, 'id' | 'eventType'>,
  attempt: number,
  signatures: Record<string, string>,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    ...signatures,
    'x-webhook-event': delivery.eventType,
    'x-webhook-delivery': delivery.id,
    'x-webhook-attempt': String(attempt),
  };
}
