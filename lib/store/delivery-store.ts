import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SqlDialect } from './dialects/sql-dialect.js';
import { WriteTransactions } from './write-transactions.js';
import { WebhookDeliveryAttemptEntity } from './entities/webhook-delivery-attempt.entity.js';
import { WebhookDeliveryEntity } from './entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from './entities/webhook-endpoint.entity.js';
import { WebhookEventEntity } from './entities/webhook-event.entity.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';
import { ENDPOINT_SNAPSHOT_COLUMNS, endpointSnapshot, type RawValue } from './endpoint-snapshot.js';

/** The part of a delivery row the pipeline reads once it holds the lease. */
export type LeasedDelivery = Pick<
  WebhookDeliveryEntity,
  | 'id'
  | 'eventId'
  | 'eventType'
  | 'endpointId'
  | 'attemptCount'
  | 'nextAttemptAt'
  | 'lastStatusCode'
  | 'lastError'
  | 'leaseToken'
  | 'leaseUntil'
>;

/** A delivery this worker holds the lease on, with what sending it needs. */
export interface ClaimedDelivery {
  delivery: LeasedDelivery;
  body: string | undefined;
  endpoint: WebhookEndpointEntity | undefined;
  /** The emitting span's `traceparent`, stored with the event. */
  traceContext?: string | null;
}

/** The delivery row's state after an attempt (or a decision not to attempt), every field spelled out. */
export type DeliveryChange = Pick<
  WebhookDeliveryEntity,
  'status' | 'attemptCount' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError' | 'completedAt'
>;

export interface DeliveryUpdate {
  delivery: LeasedDelivery;
  change: DeliveryChange;
  attempt?: Omit<WebhookDeliveryAttemptEntity, 'deliveryId' | 'endpointId'>;
}

/** Deliveries queued a little early (clock skew between hosts) are still taken. */
const EARLY_TOLERANCE_MS = 1_000;

const CLAIMED_COLUMNS = [
  'id',
  'event_id',
  'event_type',
  'endpoint_id',
  'attempt_count',
  'next_attempt_at',
  'last_status_code',
  'last_error',
  'lease_until',
];

/** The delivery pipeline's reads and writes; every write checks the lease so a stale worker changes nothing. */
@Injectable()
export class DeliveryStore {
  constructor(
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly dialect: SqlDialect,
    private readonly transactions: WriteTransactions,
  ) {}

  /**
   * Leases the due, pending, unleased deliveries among `ids` and reads them with their bodies and
   * endpoints (one statement or two: the dialect's choice). Whatever another worker holds, or what is
   * finished or not yet due, is left alone. Plain SQL: this runs for every job, and entity hydration
   * cost more than the queries.
   */
  async claim(ids: readonly string[], leaseMs: number): Promise<ClaimedDelivery[]> {
    if (ids.length === 0) return [];
    const now = Date.now();
    const token = newLeaseToken();
    const sql = this.dialect.sql;
    const c = (name: string) => sql.column(name);
    const p = sql.parameters();
    // Which of the named deliveries may be taken is tested inside a CASE, where no index can serve it,
    // so the primary key is the only way in. Statistics lag behind bursts: planned from a table that
    // was all `succeeded` at the last ANALYZE, PostgreSQL took the (status, next_attempt_at) index
    // and walked every due row of a 25,000-delivery backlog for each claim of 50 (9.6 ms a claim).
    // (Placeholders are handed out in the order they appear: MySQL and SQLite bind `?` by position.)
    const lease =
      `UPDATE ${sql.table(WebhookDeliveryEntity)} ` +
      `SET ${c('lease_token')} = ${p.add(token)}, ${c('lease_until')} = ${Math.trunc(now + leaseMs)} ` +
      `WHERE ${c('id')} IN (${p.list(ids)}) ` +
      `AND CASE WHEN ${c('status')} = ${p.add('pending')} AND ${c('next_attempt_at')} <= ${Math.trunc(now + EARLY_TOLERANCE_MS)} ` +
      `AND (${c('lease_until')} IS NULL OR ${c('lease_until')} < ${Math.trunc(now)}) THEN 1 ELSE 0 END = 1`;
    const read = (from: string) =>
      `SELECT ${CLAIMED_COLUMNS.map((name) => `d.${c(name)}`).join(', ')}, ` +
      `e.${c('body')} AS ${c('body')}, e.${c('trace_context')} AS ${c('trace_context')}, ` +
      `${ENDPOINT_SNAPSHOT_COLUMNS.map((name) => `w.${c(name)} AS ${c(`endpoint_${name}`)}`).join(', ')}, ` +
      `w.${c('id')} AS ${c('endpoint_found')} ` +
      `FROM ${from} d ` +
      `LEFT JOIN ${sql.table(WebhookEventEntity)} e ON e.${c('id')} = d.${c('event_id')} ` +
      `LEFT JOIN ${sql.table(WebhookEndpointEntity)} w ON w.${c('id')} = d.${c('endpoint_id')}`;
    const leased = sql.parameters();
    const readLeased =
      `${read(sql.table(WebhookDeliveryEntity))} WHERE d.${c('id')} IN (${leased.list(ids)}) ` +
      `AND d.${c('lease_token')} = ${leased.add(token)}`;
    const rows = await this.dialect.claim(this.dataSource.manager, {
      lease: { sql: lease, values: p.values },
      leasedColumns: CLAIMED_COLUMNS,
      read,
      readLeased: { sql: readLeased, values: leased.values },
    });
    // Deliveries of one endpoint share one endpoint object: it is read (and its secrets opened) once per claim.
    const endpoints = new Map<string, ClaimedDelivery['endpoint']>();
    return rows.map((row) => toClaimed(row, token, endpoints));
  }

  /**
   * Applies many outcomes in one short transaction: one multi-row INSERT for the attempts and one
   * UPDATE per dialect-sized chunk of deliveries. Rows whose lease was lost meanwhile are skipped.
   */
  async apply(updates: readonly DeliveryUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const attempts = updates.flatMap(({ delivery, attempt }) =>
      attempt ? [{ ...attempt, deliveryId: delivery.id, endpointId: delivery.endpointId }] : [],
    );
    const rows = updates.map(({ delivery, change }) => ({ id: delivery.id, leaseToken: delivery.leaseToken, ...change }));
    const chunk = Math.min(rows.length, this.dialect.outcomesPerStatement);
    await this.transactions.run(async (manager) => {
      await this.dialect.insert(manager, WebhookDeliveryAttemptEntity, attempts);
      const now = Date.now();
      for (let i = 0; i < rows.length; i += chunk) await this.dialect.updateOutcomes(manager, rows.slice(i, i + chunk), now);
    });
  }
}

type ClaimRow = Record<string, RawValue>;

/** Names one lease: every write of the delivery's outcome must present it. */
export function newLeaseToken(): string {
  return randomBytes(12).toString('base64url');
}

const text = (value: ClaimRow[string]) => (value === null ? null : String(value));
const integer = (value: ClaimRow[string]) => (value === null ? null : Number(value));

function toClaimed(row: ClaimRow, token: string, endpoints: Map<string, ClaimedDelivery['endpoint']>): ClaimedDelivery {
  const delivery = {
    id: String(row.id),
    eventId: String(row.event_id),
    eventType: String(row.event_type),
    endpointId: String(row.endpoint_id),
    attemptCount: Number(row.attempt_count),
    nextAttemptAt: integer(row.next_attempt_at),
    lastStatusCode: integer(row.last_status_code),
    lastError: text(row.last_error),
    leaseToken: token,
    leaseUntil: Number(row.lease_until),
  };
  if (row.endpoint_found !== null && !endpoints.has(delivery.endpointId))
    endpoints.set(delivery.endpointId, endpointSnapshot(delivery.endpointId, row, 'endpoint_'));
  return {
    delivery,
    body: text(row.body) ?? undefined,
    endpoint: endpoints.get(delivery.endpointId),
    traceContext: text(row.trace_context),
  };
}
