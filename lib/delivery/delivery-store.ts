import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { SqlWriter, type SqlParameters } from '../database/sql-writer.js';
import { WriteTransactions } from '../database/write-transactions.js';
import { WebhookDeliveryAttemptEntity } from '../entities/webhook-delivery-attempt.entity.js';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from '../entities/webhook-endpoint.entity.js';
import { WebhookEventEntity } from '../entities/webhook-event.entity.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';

/** A delivery this worker holds the lease on, with what sending it needs. */
export interface ClaimedDelivery {
  delivery: WebhookDeliveryEntity;
  body: string | undefined;
  endpoint: WebhookEndpointEntity | undefined;
}

/** The delivery row's state after an attempt (or a decision not to attempt), every field spelled out. */
export type DeliveryChange = Pick<WebhookDeliveryEntity, 'status' | 'attemptCount' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError' | 'completedAt'>;

export interface DeliveryUpdate {
  delivery: WebhookDeliveryEntity;
  change: DeliveryChange;
  attempt?: Omit<WebhookDeliveryAttemptEntity, 'deliveryId'>;
}

/** Deliveries queued a little early (clock skew between hosts) are still taken. */
const EARLY_TOLERANCE_MS = 1_000;

/** Rows per batched UPDATE; each row costs about eight bound parameters. */
const UPDATE_CHUNK = 500;

/** The delivery pipeline's reads and writes; every write checks the lease so a stale worker changes nothing. */
@Injectable()
export class DeliveryStore {
  private readonly sql: SqlWriter;

  constructor(
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly transactions: WriteTransactions,
  ) {
    this.sql = new SqlWriter(dataSource);
  }

  /**
   * Leases the due, pending, unleased deliveries among `ids` in one statement, then loads them with
   * their bodies in a second and their endpoints in a third. Whatever another worker holds, or what is
   * finished or not yet due, is left alone.
   */
  async claim(ids: readonly string[], leaseMs: number): Promise<ClaimedDelivery[]> {
    if (ids.length === 0) return [];
    const now = Date.now();
    const token = randomBytes(12).toString('base64url');
    await this.dataSource
      .createQueryBuilder()
      .update(WebhookDeliveryEntity)
      .set({ leaseToken: token, leaseUntil: now + leaseMs })
      .where('id IN (:...ids)', { ids })
      .andWhere('status = :pending', { pending: 'pending' })
      .andWhere('next_attempt_at <= :due', { due: now + EARLY_TOLERANCE_MS })
      .andWhere('(lease_until IS NULL OR lease_until < :now)', { now })
      .execute();
    const { entities, raw } = await this.dataSource
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .leftJoin(WebhookEventEntity, 'e', 'e.id = d.event_id')
      .addSelect('e.body', 'event_body')
      .where('d.id IN (:...ids) AND d.lease_token = :token', { ids, token })
      .getRawAndEntities<{ d_id: string; event_body: string | null }>();
    if (entities.length === 0) return [];
    const bodies = new Map(raw.map((row) => [row.d_id, row.event_body ?? undefined]));
    const endpoints = await this.dataSource.getRepository(WebhookEndpointEntity).find({ where: { id: In(unique(entities.map((d) => d.endpointId))) } });
    const endpointsById = new Map(endpoints.map((e) => [e.id, e]));
    return entities.map((delivery) => ({ delivery, body: bodies.get(delivery.id), endpoint: endpointsById.get(delivery.endpointId) }));
  }

  /**
   * Applies many outcomes in one short transaction: one multi-row INSERT for the attempts and one
   * UPDATE (a CASE per column) for the deliveries. Rows whose lease was lost meanwhile are skipped.
   */
  async apply(updates: readonly DeliveryUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const attempts = updates.flatMap(({ delivery, attempt }) => (attempt ? [{ ...attempt, deliveryId: delivery.id }] : []));
    await this.transactions.run(async (manager) => {
      await this.sql.insert(manager, WebhookDeliveryAttemptEntity, attempts);
      for (let i = 0; i < updates.length; i += UPDATE_CHUNK) await this.updateDeliveries(manager, updates.slice(i, i + UPDATE_CHUNK));
    });
  }

  /** Gives up a lease without attempting, so the delivery can be taken again. */
  async release(delivery: WebhookDeliveryEntity): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(WebhookDeliveryEntity)
      .set({ leaseToken: null, leaseUntil: null })
      .where('id = :id AND lease_token = :token', { id: delivery.id, token: delivery.leaseToken })
      .execute();
  }

  private async updateDeliveries(manager: EntityManager, updates: readonly DeliveryUpdate[]): Promise<void> {
    const p = this.sql.parameters();
    // ELSE names the column itself: never taken (the WHERE admits only listed ids), it gives PostgreSQL
    // the column's type for a CASE whose branches are all NULL. Numbers are written as literals: they
    // are integers this module computed, and bound numbers inside CASE would need casts on PostgreSQL.
    const byId = (column: string, value: (u: DeliveryUpdate) => string) =>
      `${this.sql.column(column)} = CASE ${this.sql.column('id')} ${updates.map((u) => `WHEN ${p.add(u.delivery.id)} THEN ${value(u)}`).join(' ')} ELSE ${this.sql.column(column)} END`;
    const integer = (value: number | null) => (value === null ? 'NULL' : String(Math.trunc(value)));
    const text = (value: string | null, parameters: SqlParameters) => (value === null ? 'NULL' : parameters.add(value));
    const set = [
      byId('status', (u) => text(u.change.status, p)),
      byId('attempt_count', (u) => integer(u.change.attemptCount)),
      byId('next_attempt_at', (u) => integer(u.change.nextAttemptAt)),
      byId('last_status_code', (u) => integer(u.change.lastStatusCode)),
      byId('last_error', (u) => text(u.change.lastError, p)),
      byId('completed_at', (u) => integer(u.change.completedAt)),
      `${this.sql.column('lease_token')} = NULL`,
      `${this.sql.column('lease_until')} = NULL`,
      `${this.sql.column('updated_at')} = ${integer(Date.now())}`,
    ];
    const ids = p.list(updates.map((u) => u.delivery.id));
    const tokens = p.list(unique(updates.map((u) => u.delivery.leaseToken)));
    await manager.query(
      `UPDATE ${this.sql.table(WebhookDeliveryEntity)} SET ${set.join(', ')} WHERE ${this.sql.column('id')} IN (${ids}) AND ${this.sql.column('lease_token')} IN (${tokens})`,
      p.values,
    );
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
