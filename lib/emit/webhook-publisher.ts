import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventCatalog, isValidEventTypeName } from './event-catalog.js';
import { isReservedEventType } from './operational-event-types.js';
import { explainIdempotencyKey, explainOwnerId } from '../utils/host-identifiers.js';
import { newId } from '../utils/id.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { InvalidEmitOptionsError, InvalidEventTypeError, ReservedEventTypeError, UnknownEventTypeError } from '../webhooks.errors.js';
import { serializeEvent } from './event-envelope.js';
import { EventStore } from './event-store.js';
import type { PreparedEvent } from './event-writer.js';
import { WebhooksTelemetry } from '../telemetry/webhooks-telemetry.js';

export const DEFAULT_OWNER_ID = 'default';

export interface EmitOptions {
  /** Whose endpoints receive the event; single-tenant hosts keep the default. */
  ownerId?: string;
  /** Emitting twice with the same key for one owner yields one event. */
  idempotencyKey?: string;
  /** Write inside the caller's transaction; deliveries are queued only once it commits. */
  manager?: EntityManager;
}

export interface EmitManyItem {
  type: string;
  data: unknown;
  ownerId?: string;
  idempotencyKey?: string;
}

export interface EmittedEvent {
  id: string;
}

/** Inject this to send webhooks: `await publisher.emit('user.created', { user_id })`. */
@Injectable()
export class WebhookPublisher {
  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly catalog: EventCatalog,
    private readonly store: EventStore,
    private readonly telemetry: WebhooksTelemetry,
  ) {}

  /** The option, lowered where the store keeps less (MySQL and MariaDB keep the body in a TEXT column). */
  private get payloadLimit(): number {
    return this.store.payloadLimit(this.options.maxPayloadBytes);
  }

  /** Stores the event and its deliveries, then queues them; resolves once the event is durable. */
  async emit(type: string, data: unknown, options: EmitOptions = {}): Promise<EmittedEvent> {
    const { manager, ...item } = options;
    const [event] = await this.emitMany([{ ...item, type, data }], { manager });
    return event;
  }

  /** Like `emit` for a batch, in one round of writes; all or nothing. */
  async emitMany(items: readonly EmitManyItem[], options: Pick<EmitOptions, 'manager'> = {}): Promise<EmittedEvent[]> {
    if (!Array.isArray(items)) throw new InvalidEmitOptionsError('emitMany expects an array of { type, data, ownerId?, idempotencyKey? }');
    if (items.length === 0) return [];
    return this.telemetry.traceEmit(items, () => this.write(items, options.manager));
  }

  private async write(items: readonly EmitManyItem[], manager: EntityManager | undefined): Promise<EmittedEvent[]> {
    const createdAt = new Date();
    const traceContext = this.telemetry.traceparent();
    const prepared = items.map((item) => this.prepare(item, createdAt, traceContext));
    const written = await this.store.write(prepared, manager);
    this.telemetry.countEmitted(prepared, written);
    return written.map((id) => ({ id }));
  }

  private prepare(item: EmitManyItem, createdAt: Date, traceContext: string | null): PreparedEvent {
    if (item === null || typeof item !== 'object') throw new InvalidEmitOptionsError('each event must be an object { type, data }');
    const { type, data, ownerId = DEFAULT_OWNER_ID, idempotencyKey } = item;
    if (!isValidEventTypeName(type)) throw new InvalidEventTypeError(type);
    if (isReservedEventType(type)) throw new ReservedEventTypeError(type);
    if (!this.catalog.isEmittable(type)) throw new UnknownEventTypeError(type);
    const problem = explainOwnerId(ownerId) ?? (idempotencyKey === undefined ? null : explainIdempotencyKey(idempotencyKey));
    if (problem) throw new InvalidEmitOptionsError(problem);
    const id = newId('evt', createdAt.getTime());
    const body = serializeEvent(id, type, createdAt, data, this.payloadLimit);
    return { id, ownerId, type, body, idempotencyKey: idempotencyKey ?? null, createdAt: createdAt.getTime(), traceContext };
  }
}
