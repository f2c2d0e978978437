import { Injectable } from '@nestjs/common';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { matchesEventType } from './event-catalog.js';
import { SqlDialect } from '../store/dialects/sql-dialect.js';
import { rawBoolean } from '../store/sql-writer.js';
import { ENDPOINT_SNAPSHOT_COLUMNS, endpointSnapshot, type RawValue } from '../store/endpoint-snapshot.js';
import type { LocalHandoff } from '../dispatch/local-handoff.js';
import { groupByOwner, type OwnedDeliveries } from '../dispatch/owned-deliveries.js';
import { WebhookDeliveryEntity } from '../store/entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import { WebhookEventEntity } from '../store/entities/webhook-event.entity.js';
import { newId } from '../utils/id.js';

/** An event ready to store: validated and serialized, not yet written. */
export interface PreparedEvent {
  id: string;
  ownerId: string;
  type: string;
  body: string;
  idempotencyKey: string | null;
  createdAt: number;
  /** The emitting span's `traceparent`, when one was recording. */
  traceContext: string | null;
  /** An endpoint left out of the fan-out: the one an operational event is about. */
  excludeEndpointId?: string;
}

export interface WrittenEvents {
  /** Event id per input, in input order; a repeated idempotency key maps to the first event. */
  eventIds: string[];
  /** Deliveries that must be queued once the writes commit (not those leased to a local worker), by owner. */
  pending: OwnedDeliveries[];
}

/**
 * Writes events and their fan-out in the caller's transaction: one delivery per subscribed endpoint,
 * `pending` when the endpoint is enabled and `skipped` (kept for `recover`) when it is disabled.
 * With a `handoff`, some pending deliveries are written already leased to this process's worker.
 */
@Injectable()
export class EventWriter {
  constructor(private readonly dialect: SqlDialect) {}

  async write(manager: EntityManager, events: PreparedEvent[], handoff?: LocalHandoff): Promise<WrittenEvents> {
    const existing = await this.findByIdempotencyKey(manager, events);
    const eventIds: string[] = [];
    const fresh: PreparedEvent[] = [];
    for (const event of events) {
      const known = event.idempotencyKey === null ? undefined : claimKey(existing, event.ownerId, event.idempotencyKey, event.id);
      if (known) {
        eventIds.push(known);
        continue;
      }
      fresh.push(event);
      eventIds.push(event.id);
    }
    if (fresh.length === 0) return { eventIds, pending: [] };

    const deliveries = await this.fanOut(manager, fresh, handoff);
    await this.insertAll(manager, fresh, deliveries);
    return { eventIds, pending: pendingByOwner(fresh, deliveries) };
  }

  /**
   * The same write without a caller's transaction, where the dialect can insert the events and their
   * deliveries atomically in one statement (PostgreSQL): two round trips (endpoints, then the insert)
   * instead of five; a group too large for one statement gets one transaction, with the endpoints
   * already read. Null when it does not apply: another database, or idempotency keys (they need the
   * read-then-write of `write`).
   */
  async writeInOneStatement(dataSource: DataSource, events: PreparedEvent[], handoff?: LocalHandoff): Promise<WrittenEvents | null> {
    if (!this.dialect.combinesInserts || events.some((event) => event.idempotencyKey !== null)) return null;
    const sql = this.dialect.sql;
    const deliveries = await this.fanOut(dataSource.manager, events, handoff);
    const parameterCount = events.length * sql.columnCount(WebhookEventEntity) + deliveries.length * sql.columnCount(WebhookDeliveryEntity);
    if (parameterCount > this.dialect.maxParameters) {
      await dataSource.transaction((manager) => this.insertAll(manager, events, deliveries));
    } else {
      const parameters = sql.parameters();
      const insertEvents = sql.insertStatement(WebhookEventEntity, events, parameters);
      const statement =
        deliveries.length === 0
          ? insertEvents
          : this.dialect.combineInserts(insertEvents, sql.insertStatement(WebhookDeliveryEntity, deliveries, parameters));
      await dataSource.query(statement, parameters.values);
    }
    return { eventIds: events.map((event) => event.id), pending: pendingByOwner(events, deliveries) };
  }

  private async insertAll(manager: EntityManager, events: PreparedEvent[], deliveries: WebhookDeliveryEntity[]): Promise<void> {
    await this.dialect.insert(manager, WebhookEventEntity, events);
    await this.dialect.insert(manager, WebhookDeliveryEntity, deliveries);
  }

  /** Event ids already stored under the events' idempotency keys, per owner, then per key. */
  private async findByIdempotencyKey(manager: EntityManager, events: PreparedEvent[]): Promise<KeysByOwner> {
    const found: KeysByOwner = new Map();
    const keysByOwner = new Map<string, string[]>();
    for (const { ownerId, idempotencyKey } of events) {
      if (idempotencyKey === null) continue;
      const keys = keysByOwner.get(ownerId) ?? [];
      keys.push(idempotencyKey);
      keysByOwner.set(ownerId, keys);
    }
    for (const [ownerId, keys] of keysByOwner) {
      const rows = await manager.find(WebhookEventEntity, {
        select: { id: true, idempotencyKey: true },
        where: { ownerId, idempotencyKey: In(keys) },
      });
      const ownerKeys = keysOf(found, ownerId);
      for (const row of rows) ownerKeys.set(row.idempotencyKey!, row.id);
    }
    return found;
  }

  private async fanOut(manager: EntityManager, events: PreparedEvent[], handoff?: LocalHandoff): Promise<WebhookDeliveryEntity[]> {
    const endpoints = await this.subscribers(manager, [...new Set(events.map((e) => e.ownerId))], handoff !== undefined);
    const deliveries: WebhookDeliveryEntity[] = [];
    for (const event of events) {
      for (const endpoint of endpoints) {
        if (endpoint.ownerId !== event.ownerId || endpoint.id === event.excludeEndpointId) continue;
        if (!endpoint.events.some((pattern) => matchesEventType(pattern, event.type))) continue;
        deliveries.push(newDelivery(event, endpoint.id, endpoint.enabled));
      }
    }
    if (handoff) {
      const byId = new Map(events.map((event) => [event.id, event]));
      const rows = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint.row]));
      const snapshots = new Map<string, WebhookEndpointEntity>();
      const snapshot = (id: string) => {
        const known = snapshots.get(id) ?? endpointSnapshot(id, rows.get(id)!);
        snapshots.set(id, known);
        return known;
      };
      handoff.lease(deliveries, (eventId) => byId.get(eventId)!, snapshot);
    }
    return deliveries;
  }

  /**
   * The owners' endpoints, read with plain SQL: this runs for every emit, and TypeORM's find costs
   * more CPU than the query (about 14 % more emits a second without it, in the bench's P3).
   * With `forSending`, what sending needs is read too, for deliveries handed to a local worker.
   */
  private async subscribers(manager: EntityManager, owners: string[], forSending: boolean): Promise<Subscriber[]> {
    const sql = this.dialect.sql;
    const p = sql.parameters();
    const c = (name: string) => sql.column(name);
    const columns = [...new Set(['id', 'events', 'owner_id', 'enabled', ...(forSending ? ENDPOINT_SNAPSHOT_COLUMNS : [])])]
      .map(c)
      .join(', ');
    const rows: Array<Record<string, RawValue>> = await manager.query(
      `SELECT ${columns} FROM ${sql.table(WebhookEndpointEntity)} WHERE ${c('owner_id')} IN (${p.list(owners)})`,
      p.values,
    );
    return rows.map((row) => ({
      id: String(row.id),
      ownerId: String(row.owner_id),
      events: JSON.parse(String(row.events)),
      enabled: rawBoolean(row.enabled),
      row,
    }));
  }
}

/**
 * Idempotency key → event id, per owner. Nested rather than joined into one string key, so no owner
 * and key can ever spell another pair.
 */
type KeysByOwner = Map<string, Map<string, string>>;

function keysOf(keysByOwner: KeysByOwner, ownerId: string): Map<string, string> {
  let keys = keysByOwner.get(ownerId);
  if (!keys) keysByOwner.set(ownerId, (keys = new Map()));
  return keys;
}

/** The event already holding the owner's key, or undefined once `eventId` is recorded as its holder. */
function claimKey(keysByOwner: KeysByOwner, ownerId: string, key: string, eventId: string): string | undefined {
  const keys = keysOf(keysByOwner, ownerId);
  const known = keys.get(key);
  if (known === undefined) keys.set(key, eventId);
  return known;
}

/** What fan-out needs of an endpoint, and the row it came from. */
interface Subscriber {
  id: string;
  ownerId: string;
  events: string[];
  enabled: boolean;
  row: Record<string, RawValue>;
}

function pendingByOwner(events: PreparedEvent[], deliveries: WebhookDeliveryEntity[]): OwnedDeliveries[] {
  const owners = new Map(events.map((event) => [event.id, event.ownerId]));
  const pending = deliveries.filter((d) => d.status === 'pending' && d.leaseToken === null);
  return groupByOwner(pending.map((d) => ({ owner: owners.get(d.eventId)!, id: d.id })));
}

export function newDelivery(
  event: Pick<PreparedEvent, 'id' | 'type' | 'createdAt'>,
  endpointId: string,
  enabled: boolean,
): WebhookDeliveryEntity {
  const now = event.createdAt;
  return {
    id: newId('dlv', now),
    eventId: event.id,
    eventType: event.type,
    endpointId,
    status: enabled ? 'pending' : 'skipped',
    attemptCount: 0,
    nextAttemptAt: enabled ? now : null,
    leaseToken: null,
    leaseUntil: null,
    lastStatusCode: null,
    lastError: enabled ? null : 'endpoint disabled',
    createdAt: now,
    updatedAt: now,
    completedAt: enabled ? null : now,
  };
}
