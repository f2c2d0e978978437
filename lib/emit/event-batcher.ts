import { Inject, Injectable, Optional } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { WriteTransactions } from '../store/write-transactions.js';
import { DeliveryQueue } from '../dispatch/delivery-queue.js';
import { DeliveryWorker } from '../worker/delivery-worker.js';
import { LocalHandoff } from '../dispatch/local-handoff.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';
import { EmitFailedError } from '../webhooks.errors.js';
import { EventWriter, type PreparedEvent, type WrittenEvents } from './event-writer.js';

interface Waiting {
  events: PreparedEvent[];
  resolve: (eventIds: string[]) => void;
  reject: (error: unknown) => void;
}

/** Events per group commit; keeps one transaction short even when many callers pile up. */
const MAX_EVENTS_PER_COMMIT = 1_000;

/**
 * Group commit for `emit` calls that bring no transaction of their own: callers arriving while a
 * write is in flight share the next transaction and the next Redis round trip, so a thousand
 * concurrent `emit`s cost a handful of commits instead of a thousand, and a lone `emit` is written
 * at once. If a shared write fails, each caller's events are written again on their own, so one
 * caller's problem never becomes another's.
 */
@Injectable()
export class EventBatcher {
  private waiting: Waiting[] = [];
  private writing: Promise<void> | null = null;

  constructor(
    private readonly writer: EventWriter,
    private readonly transactions: WriteTransactions,
    private readonly queue: DeliveryQueue,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    /** Present when this process delivers too (`processor: true`). */
    @Optional() private readonly worker?: DeliveryWorker,
  ) {}

  /**
   * Resolves with the event ids (in input order) once stored and handed over: to this process's worker,
   * to Redis, or, when Redis does not take them in time, to memory until it does.
   */
  write(events: PreparedEvent[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      this.writing ??= this.writeAll();
    });
  }

  private async writeAll(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // let callers of this same turn join
    try {
      while (this.waiting.length > 0) await this.writeGroup(this.takeGroup());
    } finally {
      this.writing = null;
    }
  }

  private takeGroup(): Waiting[] {
    let events = 0;
    let count = 0;
    while (count < this.waiting.length && (count === 0 || events + this.waiting[count].events.length <= MAX_EVENTS_PER_COMMIT)) {
      events += this.waiting[count].events.length;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  /**
   * Stores events (one statement where the database allows, else a transaction) and starts the
   * deliveries this process's worker took; the rest are returned for the queue.
   */
  private async store(events: PreparedEvent[]): Promise<WrittenEvents> {
    const handoff = this.worker ? new LocalHandoff(this.worker) : undefined;
    let written: WrittenEvents;
    try {
      written =
        (await this.writer.writeOnPostgres(this.dataSource, events, handoff)) ??
        (await this.transactions.run((manager) => this.writer.write(manager, events, handoff)));
    } catch (error) {
      handoff?.cancel();
      throw error;
    }
    handoff?.start();
    return written;
  }

  /**
   * Writes one group, then queues its deliveries without holding up the next group's write: each
   * caller waits for its own hand-over to Redis (bounded by `ENQUEUE_PATIENCE_MS`), never for an
   * earlier group's as well.
   */
  private async writeGroup(group: Waiting[]): Promise<void> {
    let written: WrittenEvents;
    try {
      written = await this.store(group.flatMap((w) => w.events));
    } catch (error) {
      if (group.length === 1) return this.writeAlone(group[0], error);
      for (const caller of group) await this.writeGroup([caller]);
      return;
    }
    void this.queue.enqueueCommitted(written.pending).then(() => {
      let offset = 0;
      for (const caller of group) {
        caller.resolve(written.eventIds.slice(offset, offset + caller.events.length));
        offset += caller.events.length;
      }
    });
  }

  /**
   * A lone caller's write failed. With idempotency keys that is usually a concurrent emit of the same
   * key winning the unique index; one retry then finds that event.
   */
  private async writeAlone(caller: Waiting, firstError: unknown): Promise<void> {
    if (!caller.events.some((event) => event.idempotencyKey !== null)) return caller.reject(new EmitFailedError(firstError));
    let written: WrittenEvents;
    try {
      written = await this.store(caller.events);
    } catch (error) {
      return caller.reject(new EmitFailedError(error));
    }
    void this.queue.enqueueCommitted(written.pending).then(() => caller.resolve(written.eventIds));
  }
}
