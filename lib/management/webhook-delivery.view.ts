import type { WebhookDeliveryAttemptEntity } from '../store/entities/webhook-delivery-attempt.entity.js';
import type { WebhookDeliveryEntity } from '../store/entities/webhook-delivery.entity.js';

export interface WebhookDeliveryView {
  id: string;
  event_id: string;
  event_type: string;
  webhook_id: string;
  status: string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface WebhookDeliveryAttemptView {
  id: string;
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

export interface WebhookDeliveryDetailView extends WebhookDeliveryView {
  /** The event exactly as delivered. */
  payload: unknown;
  attempts: WebhookDeliveryAttemptView[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toDeliveryView(delivery: WebhookDeliveryEntity): WebhookDeliveryView {
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    webhook_id: delivery.endpointId,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    next_attempt_at: iso(delivery.nextAttemptAt),
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    created_at: iso(delivery.createdAt)!,
    updated_at: iso(delivery.updatedAt)!,
    completed_at: iso(delivery.completedAt),
  };
}

export function toAttemptView(attempt: WebhookDeliveryAttemptEntity): WebhookDeliveryAttemptView {
  return {
    id: attempt.id,
    attempt: attempt.attempt,
    started_at: iso(attempt.startedAt)!,
    duration_ms: attempt.durationMs,
    status_code: attempt.statusCode,
    error: attempt.error,
    response_body: attempt.responseBody,
  };
}
