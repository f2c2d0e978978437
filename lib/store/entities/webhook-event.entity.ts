import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from './epoch-ms.transformer.js';

@Entity('webhook_events')
@Index('UQ_webhook_events_idempotency', ['ownerId', 'idempotencyKey'], { unique: true })
export class WebhookEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'owner_id', type: 'varchar', length: 191 })
  ownerId!: string;

  @Column({ type: 'varchar', length: 255 })
  type!: string;

  /** The exact bytes sent on every attempt, serialized once at emit time. */
  @Column({ type: 'text' })
  body!: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 191, nullable: true })
  idempotencyKey!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  /** The W3C `traceparent` of the emitting span, when one was recording: attempt spans link to it. */
  @Column({ name: 'trace_context', type: 'varchar', length: 55, nullable: true })
  traceContext!: string | null;
}
