import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from './epoch-ms.transformer.js';

/** A previous secret that keeps signing until `expires_at` (epoch ms). */
export interface RetiredSecret {
  secret: string;
  expires_at: number;
}

@Entity('webhook_endpoints')
@Index('IDX_webhook_endpoints_owner', ['ownerId', 'id'])
export class WebhookEndpointEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'owner_id', type: 'varchar', length: 191 })
  ownerId!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ type: 'simple-json' })
  events!: string[];

  @Column({ type: 'varchar', length: 1024, nullable: true })
  description!: string | null;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'disabled_reason', type: 'varchar', length: 255, nullable: true })
  disabledReason!: string | null;

  @Column({ type: 'simple-json', nullable: true })
  metadata!: Record<string, string> | null;

  /** Signing secret, possibly encrypted at rest; never serialized to API responses. */
  @Column({ type: 'varchar', length: 512 })
  secret!: string;

  @Column({ name: 'retired_secrets', type: 'simple-json', nullable: true })
  retiredSecrets!: RetiredSecret[] | null;

  /** Start of the current unbroken run of failed attempts; null while the endpoint is healthy. */
  @Column({ name: 'failing_since', type: 'bigint', nullable: true, transformer: epochMs })
  failingSince!: number | null;

  /** Failed attempts since the last success; with `failing_since`, decides automatic disabling. */
  @Column({ name: 'failure_count', type: 'int', default: 0 })
  failureCount!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
