import { DELIVERY_STATUSES } from '../../store/entities/delivery-status.js';
import { DocProperty } from './openapi-metadata.js';

/** A delivery as the API shows it (`WebhookDeliveryView`). */
export class WebhookDelivery {
  @DocProperty({ type: 'string', description: '`dlv_` and 26 characters.', example: 'dlv_01M8M6ZSSWZXHQJS7Z9P3EYX6F' })
  id!: string;

  @DocProperty({ type: 'string', example: 'evt_01M8M6ZSSWKQT8NBCBGBV7V90C' })
  event_id!: string;

  @DocProperty({ type: 'string', example: 'user.created' })
  event_type!: string;

  @DocProperty({ type: 'string', example: 'wh_01M8M6ZGJY1JWE3GGJVW12DEZ8' })
  webhook_id!: string;

  @DocProperty({ type: 'string', enum: DELIVERY_STATUSES })
  status!: string;

  @DocProperty({ type: 'integer', minimum: 0 })
  attempt_count!: number;

  @DocProperty({ type: 'string', format: 'date-time', nullable: true, description: 'When the next attempt is due; null once final.' })
  next_attempt_at!: string | null;

  @DocProperty({ type: 'integer', nullable: true, description: 'Null when no HTTP response arrived.' })
  last_status_code!: number | null;

  @DocProperty({ type: 'string', nullable: true })
  last_error!: string | null;

  @DocProperty({ type: 'string', format: 'date-time' })
  created_at!: string;

  @DocProperty({ type: 'string', format: 'date-time' })
  updated_at!: string;

  @DocProperty({ type: 'string', format: 'date-time', nullable: true })
  completed_at!: string | null;
}

export class WebhookDeliveryAttempt {
  @DocProperty({ type: 'string', example: 'att_01M8M6ZSTZ10WSJM4K2WJZ8972' })
  id!: string;

  @DocProperty({ type: 'integer', minimum: 1 })
  attempt!: number;

  @DocProperty({ type: 'string', format: 'date-time' })
  started_at!: string;

  @DocProperty({ type: 'integer', minimum: 0 })
  duration_ms!: number;

  @DocProperty({ type: 'integer', nullable: true, description: 'Null when no response arrived.' })
  status_code!: number | null;

  @DocProperty({ type: 'string', nullable: true, description: 'Null on success.' })
  error!: string | null;

  @DocProperty({
    type: 'string',
    nullable: true,
    description: 'The start of what the receiver answered (`delivery.responseBodyLimitBytes`).',
  })
  response_body!: string | null;
}

export class WebhookDeliveryDetail extends WebhookDelivery {
  @DocProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'The event exactly as it is sent.' })
  payload!: unknown;

  @DocProperty({ type: WebhookDeliveryAttempt, isArray: true })
  attempts!: WebhookDeliveryAttempt[];
}

export class WebhookDeliveryPage {
  @DocProperty({ type: WebhookDelivery, isArray: true })
  data!: WebhookDelivery[];

  @DocProperty({ type: 'string', nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' })
  next_cursor!: string | null;
}

export class WebhookTestEvent {
  @DocProperty({ type: 'string', example: 'evt_01M8M6ZSSWKQT8NBCBGBV7V90C' })
  event_id!: string;

  @DocProperty({ type: 'string', example: 'dlv_01M8M6ZSSWZXHQJS7Z9P3EYX6F' })
  delivery_id!: string;
}

export class WebhookRecovery {
  @DocProperty({ type: 'integer', minimum: 0, description: 'How many failed and skipped deliveries were queued again.' })
  recovering!: number;
}
