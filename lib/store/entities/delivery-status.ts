/**
 * `pending` is queued or waiting for a retry; the rest are final until someone retries or recovers.
 * `skipped` marks events that arrived while the endpoint was disabled, kept so `recover` can replay them.
 */
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
