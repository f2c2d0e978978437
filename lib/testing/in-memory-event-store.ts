import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventStore } from '../emit/event-store.js';
import type { PreparedEvent } from '../emit/event-writer.js';
import { LocalDelivery } from './local-delivery.js';
import type { ResolvedTestingOptions } from './testing-options.js';
import { WebhooksRecorder, type RecordedEvent } from './webhooks-recorder.js';

export const TESTING_OPTIONS = 'nestjs-webhooks:testing-options';

/**
 * The testing module's store: events go to `WebhooksRecorder` instead of the database, and, with
 * `deliverTo`, one signed POST each before `write` resolves. Idempotency keys behave as the database's
 * unique index does: per owner, the first event keeps the key, and a repeat (in the same batch or
 * later) returns that event's id and stores nothing.
 */
@Injectable()
export class InMemoryEventStore extends EventStore implements OnModuleDestroy {
  /** No column to fit: only `maxPayloadBytes` caps the body. */
  readonly maxBodyBytes = Number.POSITIVE_INFINITY;
  /** Event id by idempotency key, per owner; nested so that no owner and key can spell another pair. */
  private readonly keys = new Map<string, Map<string, string>>();
  private readonly delivery: LocalDelivery | null;

  constructor(
    @Inject(TESTING_OPTIONS) options: ResolvedTestingOptions,
    private readonly recorder: WebhooksRecorder,
  ) {
    super();
    this.delivery = options.deliverTo ? new LocalDelivery(options.deliverTo, options.webhooks) : null;
  }

  async write(events: PreparedEvent[], manager?: EntityManager): Promise<string[]> {
    const ids: string[] = [];
    const fresh: PreparedEvent[] = [];
    for (const event of events) {
      const known = event.idempotencyKey === null ? undefined : this.claimKey(event);
      ids.push(known ?? event.id);
      if (known === undefined) fresh.push(event);
    }
    for (const event of fresh) {
      const delivery = this.delivery ? await this.delivery.send(event) : null;
      this.recorder.record(toRecord(event, manager !== undefined, delivery));
    }
    return ids;
  }

  async onModuleDestroy(): Promise<void> {
    await this.delivery?.close();
  }

  /** The event already holding the owner's key, or undefined once this event has claimed it. */
  private claimKey(event: PreparedEvent): string | undefined {
    let keys = this.keys.get(event.ownerId);
    if (!keys) this.keys.set(event.ownerId, (keys = new Map()));
    const known = keys.get(event.idempotencyKey!);
    if (known === undefined) keys.set(event.idempotencyKey!, event.id);
    return known;
  }
}

function toRecord(event: PreparedEvent, inTransaction: boolean, delivery: RecordedEvent['delivery']): RecordedEvent {
  const { data } = JSON.parse(event.body) as { data: unknown };
  return {
    id: event.id,
    type: event.type,
    ownerId: event.ownerId,
    idempotencyKey: event.idempotencyKey,
    createdAt: new Date(event.createdAt),
    data,
    body: event.body,
    inTransaction,
    delivery,
  };
}
