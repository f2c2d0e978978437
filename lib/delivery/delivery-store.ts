import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { SqlWriter, type SqlParameters } from '../database/sql-writer.js';
import { WriteTransactions } from '../database/write-transactions.js';
import { WebhookDeliveryAttemptEntity } from '../entities/webhook-delivery-attempt.entity.js';
import { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from '../entities/webhook-endpoint.entity.js';
import { WebhookEventEntity } from '../entities/webhook-event.entity.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';

/** The part of a delivery row the pipeline reads once it holds the lease. */
export type LeasedDelivery = Pick<
  WebhookDeliveryEntity,
  'id' | 'eventId' | 'eventType' | 'endpointId' | 'attemptCount' | 'lastStatusCode' | 'lastError' | 'leaseToken' | 'leaseUntil'
>;

/** A delivery this worker holds the lease on, with what sending it needs. */
export interface ClaimedDelivery {
  delivery: LeasedDelivery;
  body: string | undefined;
  endpoint: WebhookEndpointEntity | undefined;
}

/** The delivery row's state after an attempt (or a decision not to attempt), every field spelled out. */
export type DeliveryChange = Pick<WebhookDeliveryEntity, 'status' | 'attemptCount' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError' | 'completedAt'>;

export interface DeliveryUpdate {
  delivery: LeasedDelivery;
  change: DeliveryChange;
  attempt?: Omit<WebhookDeliveryAttemptEntity, 'deliveryId'>;
}

/** Deliveries queued a little early (clock skew between hosts) are still taken. */
const EARLY_TOLERANCE_MS = 1_000;

const CLAIMED_COLUMNS = ['id', 'event_id', 'event_type', 'endpoint_id', 'attempt_count', 'last_status_code', 'last_error', 'lease_until'];
const ENDPOINT_COLUMNS = ['owner_id', 'url', 'enabled', 'secret', 'retired_secrets', 'failing_since', 'failure_count'];

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
   * Leases the due, pending, unleased deliveries among `ids` and reads them with their bodies and
   * endpoints: one statement on PostgreSQL, two elsewhere. Whatever another worker holds, or what is
   * finished or not yet due, is left alone. Plain SQL: this runs for every job, and entity hydration
   * cost more than the queries.
   */
  async claim(ids: readonly string[], leaseMs: number): Promise<ClaimedDelivery[]> {
    if (ids.length === 0) return [];
    const now = Date.now();
    const token = randomBytes(12).toString('base64url');
    const c = (name: string) => this.sql.column(name);
    const p = this.sql.parameters();
    const lease =
      `UPDATE ${this.sql.table(WebhookDeliveryEntity)} SET ${c('lease_token')} = ${p.add(token)}, ${c('lease_until')} = ${Math.trunc(now + leaseMs)} ` +
      `WHERE ${c('id')} IN (${p.list(ids)}) AND ${c('status')} = ${p.add('pending')} ` +
      `AND ${c('next_attempt_at')} <= ${Math.trunc(now + EARLY_TOLERANCE_MS)} AND (${c('lease_until')} IS NULL OR ${c('lease_until')} < ${Math.trunc(now)})`;
    const joined = (from: string) =>
      `SELECT ${CLAIMED_COLUMNS.map((name) => `d.${c(name)}`).join(', ')}, e.${c('body')} AS ${c('body')}, ` +
      `${ENDPOINT_COLUMNS.map((name) => `w.${c(name)} AS ${c(`endpoint_${name}`)}`).join(', ')}, w.${c('id')} AS ${c('endpoint_found')} ` +
      `FROM ${from} d ` +
      `LEFT JOIN ${this.sql.table(WebhookEventEntity)} e ON e.${c('id')} = d.${c('event_id')} ` +
      `LEFT JOIN ${this.sql.table(WebhookEndpointEntity)} w ON w.${c('id')} = d.${c('endpoint_id')}`;
    let rows: ClaimRow[];
    if (this.dataSource.options.type === 'postgres') {
      // One round trip: PostgreSQL lets the UPDATE hand its rows to the join (emit-to-receiver latency).
      rows = await this.dataSource.query(`WITH claimed AS (${lease} RETURNING ${CLAIMED_COLUMNS.map(c).join(', ')}) ${joined('claimed')}`, p.values);
    } else {
      await this.dataSource.query(lease, p.values);
      const select = this.sql.parameters();
      rows = await this.dataSource.query(
        `${joined(this.sql.table(WebhookDeliveryEntity))} WHERE d.${c('id')} IN (${select.list(ids)}) AND d.${c('lease_token')} = ${select.add(token)}`,
        select.values,
      );
    }
    return rows.map((row) => toClaimed(row, token));
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

type ClaimRow = Record<string, string | number | boolean | null>;

const text = (value: ClaimRow[string]) => (value === null ? null : String(value));
const integer = (value: ClaimRow[string]) => (value === null ? null : Number(value));

function toClaimed(row: ClaimRow, token: string): ClaimedDelivery {
  const delivery = {
    id: String(row.id),
    eventId: String(row.event_id),
    eventType: String(row.event_type),
    endpointId: String(row.endpoint_id),
    attemptCount: Number(row.attempt_count),
    lastStatusCode: integer(row.last_status_code),
    lastError: text(row.last_error),
    leaseToken: token,
    leaseUntil: Number(row.lease_until),
  };
  return { delivery, body: text(row.body) ?? undefined, endpoint: row.endpoint_found === null ? undefined : toEndpoint(delivery.endpointId, row) };
}

/** The endpoint columns the sender needs; booleans arrive as 1/0 from MariaDB and SQLite. */
function toEndpoint(id: string, row: ClaimRow): ClaimedDelivery['endpoint'] {
  const retired = text(row.endpoint_retired_secrets);
  return Object.assign(new WebhookEndpointEntity(), {
    id,
    ownerId: String(row.endpoint_owner_id),
    url: String(row.endpoint_url),
    enabled: row.endpoint_enabled === true || Number(row.endpoint_enabled) === 1,
    secret: String(row.endpoint_secret),
    retiredSecrets: retired === null ? null : JSON.parse(retired),
    failingSince: integer(row.endpoint_failing_since),
    failureCount: Number(row.endpoint_failure_count),
  });
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
