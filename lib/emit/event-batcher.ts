import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DeliveryDispatcher } from '../dispatch/delivery-dispatcher.js';
import { WriteTransactions } from '../store/write-transactions.js';
import { GroupCommit, type GroupMember } from '../utils/group-commit.js';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';
import { EmitFailedError } from '../webhooks.errors.js';
import { EventWriter, type PreparedEvent, type WrittenEvents } from './event-writer.js';

type Caller = GroupMember<PreparedEvent[], string[]>;

/** Events per group commit; keeps one transaction short even when many callers pile up. */
const MAX_EVENTS_PER_COMMIT = 1_000;

/**
 * Group commit for `emit` calls that bring no transaction of their own: callers arriving while a
 * write is in flight share the next transaction, so a thousand concurrent `emit`s cost a handful of
 * commits instead of a thousand, and a lone `emit` is written at once. If a shared write fails, each
 * caller's events are written again on their own, so one caller's problem never becomes another's.
 */
@Injectable()
export class EventBatcher {
  private readonly commits = new GroupCommit<PreparedEvent[], string[]>((group) => this.writeGroup(group), {
    maxWeight: MAX_EVENTS_PER_COMMIT,
    weight: (events) => events.length,
  });

  constructor(
    private readonly writer: EventWriter,
    private readonly transactions: WriteTransactions,
    private readonly dispatcher: DeliveryDispatcher,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  /**
   * Resolves with the event ids (in input order) once stored and handed over: to this process's worker,
   * to Redis, or, when Redis does not take them in time, to memory until it does.
   */
  write(events: PreparedEvent[]): Promise<string[]> {
    return this.commits.submit(events);
  }

  /**
   * Writes one group, then hands its deliveries over without holding up the next group's write: each
   * caller waits for its own hand-over (bounded), never for an earlier group's as well.
   */
  private async writeGroup(group: Caller[]): Promise<void> {
    let written: WrittenEvents;
    try {
      written = await this.store(group.flatMap((caller) => caller.item));
    } catch (error) {
      if (group.length === 1) return this.writeAlone(group[0], error);
      for (const caller of group) await this.writeGroup([caller]);
      return;
    }
    void this.dispatcher.dispatch(written.pending).then(() => {
      let offset = 0;
      for (const caller of group) {
        caller.resolve(written.eventIds.slice(offset, offset + caller.item.length));
        offset += caller.item.length;
      }
    });
  }

  /**
   * A lone caller's write failed. With idempotency keys that is usually a concurrent emit of the same
   * key winning the unique index; one retry then finds that event.
   */
  private async writeAlone(caller: Caller, firstError: unknown): Promise<void> {
    if (!caller.item.some((event) => event.idempotencyKey !== null)) return caller.reject(new EmitFailedError(firstError));
    let written: WrittenEvents;
    try {
      written = await this.store(caller.item);
    } catch (error) {
      return caller.reject(new EmitFailedError(error));
    }
    void this.dispatcher.dispatch(written.pending).then(() => caller.resolve(written.eventIds));
  }

  /**
   * Stores events (one statement where the database allows, else a transaction) and starts the
   * deliveries this process's worker took as they were written; the rest are returned for dispatch.
   */
  private async store(events: PreparedEvent[]): Promise<WrittenEvents> {
    const handoff = this.dispatcher.handoff();
    let written: WrittenEvents;
    try {
      written =
        (await this.writer.writeInOneStatement(this.dataSource, events, handoff)) ??
        (await this.transactions.run((manager) => this.writer.write(manager, events, handoff)));
    } catch (error) {
      handoff?.cancel();
      throw error;
    }
    handoff?.start();
    return written;
  }
}
