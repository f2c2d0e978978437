import type { DataSource, EntityManager } from 'typeorm';
import type { DeliveryDispatcher } from '../dispatch/delivery-dispatcher.js';
import type { LocalHandoff } from '../dispatch/local-handoff.js';
import type { OwnedDeliveries } from '../dispatch/owned-deliveries.js';
import type { WriteTransactions } from '../store/write-transactions.js';
import { EmitFailedError } from '../webhooks.errors.js';
import { EventBatcher } from './event-batcher.js';
import type { EventWriter, PreparedEvent, WrittenEvents } from './event-writer.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A few turns of the event loop, fewer if `done` comes true sooner. */
async function turnsUntil(done: () => boolean): Promise<void> {
  for (let n = 0; n < 20 && !done(); n++) await turn();
}

let sequence = 0;
function event(overrides: Partial<PreparedEvent> = {}): PreparedEvent {
  sequence++;
  return {
    id: `evt_${sequence}`,
    ownerId: 'owner-1',
    type: 'user.created',
    body: '{}',
    idempotencyKey: null,
    createdAt: 0,
    traceContext: null,
    ...overrides,
  };
}

const events = (count: number, overrides: Partial<PreparedEvent> = {}) => Array.from({ length: count }, () => event(overrides));

interface Options {
  /** Fails a write containing an event for which this returns true. */
  poisoned?: (event: PreparedEvent) => boolean;
  /** Fails the first `n` writes. */
  failFirst?: number;
  /** Whether the dialect writes events in one statement (PostgreSQL) rather than a transaction. */
  oneStatement?: boolean;
  /** Holds the hand-over of every write until released. */
  holdDispatch?: Promise<void>;
  handoff?: boolean;
}

function setup(options: Options = {}) {
  const writes: PreparedEvent[][] = [];
  let failFirst = options.failFirst ?? 0;
  const written = async (batch: PreparedEvent[]): Promise<WrittenEvents> => {
    writes.push(batch);
    if (failFirst-- > 0 || batch.some((e) => options.poisoned?.(e))) throw new Error('duplicate key');
    return { eventIds: batch.map((e) => `stored_${e.id}`), pending: [{ owner: batch[0].ownerId, ids: batch.map((e) => `dlv_${e.id}`) }] };
  };
  const transactions = { runs: 0 };
  const writer = {
    writeInOneStatement: async (_: DataSource, batch: PreparedEvent[]) => (options.oneStatement ? written(batch) : null),
    write: async (_: EntityManager, batch: PreparedEvent[]) => written(batch),
  } as unknown as EventWriter;
  const writeTransactions = {
    run: (work: (manager: EntityManager) => Promise<unknown>) => {
      transactions.runs++;
      return work({} as EntityManager);
    },
  } as unknown as WriteTransactions;
  const dispatched: OwnedDeliveries[][] = [];
  const handoffs: string[] = [];
  const dispatcher = {
    dispatch: async (deliveries: OwnedDeliveries[]) => {
      dispatched.push(deliveries);
      await options.holdDispatch;
    },
    handoff: () =>
      options.handoff
        ? ({ start: () => void handoffs.push('start'), cancel: () => void handoffs.push('cancel') } as unknown as LocalHandoff)
        : undefined,
  } as unknown as DeliveryDispatcher;
  const batcher = new EventBatcher(writer, writeTransactions, dispatcher, {} as DataSource);
  return { batcher, writes, dispatched, transactions, handoffs };
}

describe('EventBatcher', () => {
  it('writes concurrent callers in one write and gives each its own ids, in order', async () => {
    const { batcher, writes, dispatched } = setup();
    const [a, b, c] = [events(2), events(1), events(3)];
    const ids = await Promise.all([batcher.write(a), batcher.write(b), batcher.write(c)]);
    expect(writes).toHaveLength(1);
    expect(ids).toEqual([a, b, c].map((list) => list.map((e) => `stored_${e.id}`)));
    expect(dispatched.flat().flatMap((d) => d.ids)).toEqual([...a, ...b, ...c].map((e) => `dlv_${e.id}`));
  });

  it('keeps a group under 1,000 events, never splitting a caller', async () => {
    const { batcher, writes } = setup();
    await Promise.all([batcher.write(events(600)), batcher.write(events(300)), batcher.write(events(200)), batcher.write(events(1_500))]);
    expect(writes.map((batch) => batch.length)).toEqual([900, 200, 1_500]);
  });

  it('shares the next write among callers that arrive while one is in flight', async () => {
    const { batcher, writes } = setup();
    const first = batcher.write(events(1));
    await turn();
    const later = [batcher.write(events(1)), batcher.write(events(1))];
    await Promise.all([first, ...later]);
    expect(writes.map((batch) => batch.length)).toEqual([1, 2]);
  });

  it('writes each caller alone when a shared write fails, so one caller’s problem is not another’s', async () => {
    const { batcher, writes } = setup({ poisoned: (e) => e.body === 'poison' });
    const good = events(2);
    const bad = [event({ body: 'poison' })];
    const other = events(1);
    const results = await Promise.allSettled([batcher.write(good), batcher.write(bad), batcher.write(other)]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: good.map((e) => `stored_${e.id}`) });
    expect(results[1].status).toBe('rejected');
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(EmitFailedError);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('Webhook event was not stored: duplicate key');
    expect(results[2]).toEqual({ status: 'fulfilled', value: other.map((e) => `stored_${e.id}`) });
    expect(writes.map((batch) => batch.length)).toEqual([4, 2, 1, 1]);
  });

  it('does not retry a lone caller’s failed write without idempotency keys', async () => {
    const { batcher, writes } = setup({ failFirst: 1 });
    await expect(batcher.write(events(1))).rejects.toBeInstanceOf(EmitFailedError);
    expect(writes).toHaveLength(1);
  });

  it('retries a lone caller’s write once when it carries an idempotency key, where a concurrent emit may have won', async () => {
    const { batcher, writes } = setup({ failFirst: 1 });
    const keyed = [event({ idempotencyKey: 'signup-1' })];
    await expect(batcher.write(keyed)).resolves.toEqual([`stored_${keyed[0].id}`]);
    expect(writes).toHaveLength(2);

    const twice = setup({ failFirst: 2 });
    await expect(twice.batcher.write([event({ idempotencyKey: 'signup-2' })])).rejects.toBeInstanceOf(EmitFailedError);
    expect(twice.writes).toHaveLength(2);
  });

  it('resolves a caller only once its deliveries are handed over, without holding up the next write', async () => {
    let release!: () => void;
    const holdDispatch = new Promise<void>((resolve) => (release = resolve));
    const { batcher, writes } = setup({ holdDispatch });
    let resolved = false;
    const first = batcher.write(events(1)).then(() => (resolved = true));
    await turnsUntil(() => writes.length === 1);
    await turn();
    const second = batcher.write(events(1));
    await turnsUntil(() => writes.length === 2);
    expect(writes).toHaveLength(2);
    expect(resolved).toBe(false);
    release();
    await Promise.all([first, second]);
    expect(resolved).toBe(true);
  });

  it('writes in one statement where the dialect can, else in a transaction', async () => {
    const single = setup({ oneStatement: true });
    await single.batcher.write(events(2));
    expect(single.transactions.runs).toBe(0);
    const portable = setup();
    await portable.batcher.write(events(2));
    expect(portable.transactions.runs).toBe(1);
  });

  it('starts the local worker’s hand-off after a write, and cancels it when the write fails', async () => {
    const ok = setup({ handoff: true });
    await ok.batcher.write(events(1));
    expect(ok.handoffs).toEqual(['start']);
    const failing = setup({ handoff: true, failFirst: 1 });
    await expect(failing.batcher.write(events(1))).rejects.toBeInstanceOf(EmitFailedError);
    expect(failing.handoffs).toEqual(['cancel']);
  });
});
