/** One entry of the event-type catalog, as a host declares it. */
export interface WebhookEventTypeDefinition {
  name: string;
  description?: string;
  /** JSON Schema of `data`, published through `GET /event-types` for receivers; not enforced on emit. */
  schema?: Record<string, unknown>;
}

export type WebhookEventType = string | WebhookEventTypeDefinition;
