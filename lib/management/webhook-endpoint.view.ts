import type { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';

/** An endpoint as the API shows it: snake_case, ISO dates, never the secret. */
export interface WebhookEndpointView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export function toEndpointView(endpoint: WebhookEndpointEntity): WebhookEndpointView {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabledReason,
    metadata: endpoint.metadata ?? {},
    created_at: new Date(endpoint.createdAt).toISOString(),
    updated_at: new Date(endpoint.updatedAt).toISOString(),
  };
}
