import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from './epoch-ms.transformer.js';

/** How the error of an attempt the circuit breaker counted without sending it begins. */
export const UNSENT_ATTEMPT_PREFIX = 'not sent: ';

@Entity('webhook_delivery_attempts')
@Index('IDX_webhook_delivery_attempts_delivery', ['deliveryId', 'attempt'])
@Index('IDX_webhook_delivery_attempts_endpoint', ['endpointId', 'startedAt'])
export class WebhookDeliveryAttemptEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'delivery_id', type: 'varchar', length: 40 })
  deliveryId!: string;

  /**
   * Copied from the delivery so that an endpoint's statistics read one index range instead of joining
   * every delivery. Null only on attempts recorded before the column existed whose delivery was gone.
   */
  @Column({ name: 'endpoint_id', type: 'varchar', length: 40, nullable: true })
  endpointId!: string | null;

  /** 1-based, as sent in `x-webhook-attempt`. */
  @Column({ type: 'int' })
  attempt!: number;

  @Column({ name: 'started_at', type: 'bigint', transformer: epochMs })
  startedAt!: number;

  @Column({ name: 'duration_ms', type: 'int' })
  durationMs!: number;

  @Column({ name: 'status_code', type: 'int', nullable: true })
  statusCode!: number | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  error!: string | null;

  /** The receiver's response, cut at `delivery.responseBodyLimitBytes`. */
  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody!: string | null;
}
