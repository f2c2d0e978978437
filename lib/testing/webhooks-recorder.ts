import { Injectable } from '@nestjs/common';

/** One event as `WebhookPublisher` accepted it: what receivers would be sent. */
export interface RecordedEvent<TData = unknown> {
  /** `evt_…`: what `emit` returned, the body's `id` and the `webhook-id` header. */
  id: string;
  type: string;
  ownerId: string;
  idempotencyKey: string | null;
  /** The body's `created_at`. */
  createdAt: Date;
  /** The body's `data` as a receiver parses it (a `Date` arrives as its ISO string, say), not the object passed to `emit`. */
  data: TData;
  /** The delivery body, byte for byte. */
  body: string;
  /** Emitted with `manager`: in production it would be stored only if that transaction commits. */
  inTransaction: boolean;
  /** With `deliverTo`, the POST made before `emit` resolved; null otherwise. */
  delivery: RecordedDelivery | null;
}

/** The one POST to `deliverTo` (never retried) and how the receiver answered. */
export interface RecordedDelivery {
  url: string;
  /** `x-webhook-delivery`. */
  id: string;
  /** The request headers, signatures included. */
  headers: Record<string, string>;
  /** Null when no response arrived. */
  statusCode: number | null;
  /** Null on a 2xx; otherwise why it failed, as the delivery history would show it. */
  error: string | null;
  responseBody: string | null;
}

export type EventMatcher = string | ((event: RecordedEvent) => boolean);

interface Waiter {
  matches: (event: RecordedEvent) => boolean;
  resolve: (event: RecordedEvent) => void;
}

/**
 * What `WebhookPublisher` emitted under `WebhooksTestingModule`, in emit order. An event appears once
 * `emit` has finished with it (after its POST, with `deliverTo`); a repeated idempotency key adds nothing.
 */
@Injectable()
export class WebhooksRecorder {
  private events: RecordedEvent[] = [];
  private waiters: Waiter[] = [];

  all(): RecordedEvent[] {
    return [...this.events];
  }

  ofType<TData = unknown>(type: string): RecordedEvent<TData>[] {
    return this.events.filter((event) => event.type === type) as RecordedEvent<TData>[];
  }

  /** The most recent event (of `type`, if given), or undefined. */
  last<TData = unknown>(type?: string): RecordedEvent<TData> | undefined {
    const events = type === undefined ? this.events : this.ofType(type);
    return events[events.length - 1] as RecordedEvent<TData> | undefined;
  }

  /** Forgets every event; idempotency keys already used keep their event ids, as the database would. */
  clear(): void {
    this.events = [];
  }

  /**
   * The first recorded event of this type (or matching this predicate), waiting for it if need be:
   * for code that emits without being awaited. Rejects after `timeoutMs`, listing what was recorded.
   */
  waitFor<TData = unknown>(match: EventMatcher, { timeoutMs = 5_000 }: { timeoutMs?: number } = {}): Promise<RecordedEvent<TData>> {
    const matches = typeof match === 'string' ? (event: RecordedEvent) => event.type === match : match;
    const found = this.events.find(matches);
    if (found) return Promise.resolve(found as RecordedEvent<TData>);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        matches,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event as RecordedEvent<TData>);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.events.map((event) => event.type).join(', ') || 'nothing';
        const wanted = typeof match === 'string' ? `of type "${match}"` : 'matching the predicate';
        reject(new Error(`WebhooksRecorder: no event ${wanted} within ${timeoutMs} ms; recorded: ${seen}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Called by the testing store once `emit` has finished with the event. */
  record(event: RecordedEvent): void {
    this.events.push(event);
    const settled = this.waiters.filter((waiter) => waiter.matches(event));
    if (settled.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => !settled.includes(waiter));
    for (const waiter of settled) waiter.resolve(event);
  }
}
