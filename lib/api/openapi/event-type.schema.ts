import { DocProperty } from './openapi-metadata.js';

export class WebhookEventType {
  @DocProperty({ type: 'string', example: 'user.created' })
  name!: string;

  @DocProperty({ type: 'string', nullable: true })
  description!: string | null;

  @DocProperty({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    description: "The JSON Schema of the event's data, if the catalog gives one.",
  })
  schema!: unknown;
}

export class WebhookEventTypeList {
  @DocProperty({ type: WebhookEventType, isArray: true })
  data!: WebhookEventType[];
}
