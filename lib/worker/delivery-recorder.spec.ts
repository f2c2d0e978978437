import { Logger } from '@nestjs/common';
import type { RetryPolicy } from '../config/retry-policy.js';
import type { DelayedDelivery, DeliveryQueue } from '../dispatch/delivery-queue.js';
import type { DeliveryStore, DeliveryUpdate } from '../store/delivery-store.js';
import { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import { DeliveryRecorder, type DeliveryRecord } from './delivery-recorder.js';
import type { EndpointHealth, EndpointObservation } from './endpoint-health.js';
import type { OperationalHooks } from './operational-hooks.js';

/** A promise settled from outside: lets a test hold a database write open. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function record(n: number, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    delivery: {
      id: `dlv_${n}`,
      eventId: `evt_${n}`,
      eventType: 'user.created',
      endpointId: 'ep_1',
      attemptCount: 0,
      nextAttemptAt: 0,
      lastStatusCode: null,
      lastError: null,
      leaseToken: `lease-${n}`,
      leaseUntil: 0,
    },
    change: { status: 'succeeded', attemptCount: 1, nextAttemptAt: null, lastStatusCode: 200, lastError: null, completedAt: 1 },
    ownerId: 'owner-1',
    ...overrides,
  };
}

function setup(options: { failures?: number; hold?: Promise<void>; holdQueue?: Promise<void>; healthFails?: boolean } = {}) {
  const writes: DeliveryUpdate[][] = [];
  let failures = options.failures ?? 0;
  const events: string[] = [];
  const store = {
    apply: async (records: DeliveryUpdate[]) => {
      writes.push(records);
      await options.hold;
      if (failures-- > 0) throw new Error('connection lost');
      events.push(`commit ${records.length}`);
    },
  } as unknown as DeliveryStore;
  const queued: DelayedDelivery[] = [];
  const queue = {
    enqueue: async (items: readonly DelayedDelivery[]) => {
      queued.push(...items);
      await options.holdQueue;
      events.push(`enqueue ${items.length}`);
      return true;
    },
  } as unknown as DeliveryQueue;
  const observed: EndpointObservation[] = [];
  const health = {
    observe: async (observations: readonly EndpointObservation[]) => {
      observed.push(...observations);
      if (options.healthFails) throw new Error('health table locked');
    },
  } as unknown as EndpointHealth;
  const notified: Array<[string, unknown]> = [];
  const hooks = { notify: (name: string, event: unknown) => void notified.push([name, event]) } as unknown as OperationalHooks;
  const pauses: number[] = [];
  // No real pause between tries; three tries in all.
  const policy = { transientPause: (n: number) => (pauses.push(n), n < 3 ? 0 : null) } as unknown as RetryPolicy;
  const recorder = new DeliveryRecorder(store, queue, health, hooks, policy);
  return { recorder, writes, queued, observed, notified, pauses, events };
}

describe('DeliveryRecorder', () => {
  const warnings: string[] = [];

  beforeAll(() =>
    Logger.overrideLogger({ log: () => undefined, error: () => undefined, warn: (message: string) => void warnings.push(message) }),
  );

  it('writes what is handed in during one turn as one batch, and resolves each record once committed', async () => {
    const { recorder, writes } = setup();
    const done = await Promise.all([1, 2, 3].map((n) => recorder.record(record(n))));
    expect(done).toEqual([undefined, undefined, undefined]);
    expect(writes.map((batch) => batch.map((r) => r.delivery.id))).toEqual([['dlv_1', 'dlv_2', 'dlv_3']]);
  });

  it('groups what arrives while a write is in flight into the next write', async () => {
    const held = gate();
    const { recorder, writes } = setup({ hold: held.opened });
    const first = recorder.record(record(1));
    await turn();
    expect(writes).toHaveLength(1);
    const later = [2, 3, 4].map((n) => recorder.record(record(n)));
    await turn();
    expect(writes).toHaveLength(1);
    held.open();
    await Promise.all([first, ...later]);
    expect(writes.map((batch) => batch.length)).toEqual([1, 3]);
  });

  it('writes at most 500 outcomes per transaction', async () => {
    const { recorder, writes } = setup();
    await Promise.all(Array.from({ length: 1_100 }, (_, n) => recorder.record(record(n))));
    expect(writes.map((batch) => batch.length)).toEqual([500, 500, 100]);
    expect(writes.flat().map((r) => r.delivery.id)).toEqual(Array.from({ length: 1_100 }, (_, n) => `dlv_${n}`));
  });

  it('retries a write through transient failures, then resolves', async () => {
    const { recorder, writes, pauses } = setup({ failures: 2 });
    await recorder.record(record(1));
    expect(writes).toHaveLength(3);
    expect(writes.every((batch) => batch[0].delivery.id === 'dlv_1')).toBe(true);
    expect(pauses).toEqual([1, 2]);
  });

  it('rejects every record of a batch the database refused through all retries, and queues nothing for it', async () => {
    const { recorder, writes, queued, notified, observed } = setup({ failures: Infinity });
    const results = await Promise.allSettled([
      recorder.record(record(1, { retryInMs: 100 })),
      recorder.record(record(2, { change: { ...record(2).change, status: 'failed' } })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('connection lost'));
    expect(writes).toHaveLength(3);
    expect([queued, notified, observed]).toEqual([[], [], []]);
  });

  it('queues retries only after the commit, with their owner and delay', async () => {
    const { recorder, queued, events } = setup();
    await Promise.all([
      recorder.record(record(1, { retryInMs: 250, change: { ...record(1).change, status: 'pending' } })),
      recorder.record(record(2)),
      recorder.record(record(3, { ownerId: null, retryInMs: 1_000, change: { ...record(3).change, status: 'pending' } })),
    ]);
    await recorder.drain();
    expect(queued).toEqual([
      { id: 'dlv_1', owner: 'owner-1', delayMs: 250 },
      { id: 'dlv_3', owner: undefined, delayMs: 1_000 },
    ]);
    expect(events).toEqual(['commit 3', 'enqueue 2']);
  });

  it('tells the host about deliveries that failed for good, and only those of endpoints that still exist', async () => {
    const { recorder, notified } = setup();
    const failed = (n: number, ownerId: string | null) =>
      record(n, {
        ownerId,
        change: {
          status: 'failed',
          attemptCount: 3,
          nextAttemptAt: null,
          lastStatusCode: 500,
          lastError: 'HTTP 500; retry schedule exhausted',
          completedAt: 1,
        },
      });
    await Promise.all([recorder.record(failed(1, 'owner-1')), recorder.record(failed(2, null)), recorder.record(record(3))]);
    await recorder.drain();
    expect(notified).toEqual([
      [
        'onDeliveryFailed',
        {
          deliveryId: 'dlv_1',
          endpointId: 'ep_1',
          ownerId: 'owner-1',
          eventId: 'evt_1',
          eventType: 'user.created',
          attempts: 3,
          lastError: 'HTTP 500; retry schedule exhausted',
        },
      ],
    ]);
  });

  it('passes attempts’ observations to endpoint health, and survives health failing', async () => {
    const endpoint = Object.assign(new WebhookEndpointEntity(), { id: 'ep_1' });
    const observation = { endpoint, at: 1, ok: true, gone: false };
    const { recorder, observed } = setup({ healthFails: true });
    await Promise.all([recorder.record(record(1, { observation })), recorder.record(record(2))]);
    await recorder.drain();
    expect(observed).toEqual([observation]);
    expect(warnings).toContain('Could not update endpoint health: health table locked');
    await expect(recorder.record(record(3, { observation }))).resolves.toBeUndefined();
    await recorder.drain();
  });

  it('resolves a record at its commit, without waiting for its retry to reach the queue', async () => {
    const redis = gate();
    const { recorder, queued } = setup({ holdQueue: redis.opened });
    await recorder.record(record(1, { retryInMs: 100, change: { ...record(1).change, status: 'pending' } }));
    expect(queued).toEqual([{ id: 'dlv_1', owner: 'owner-1', delayMs: 100 }]);
    redis.open();
    await recorder.drain();
  });

  it('holds senders back in ready() while too many outcomes wait for the database', async () => {
    const held = gate();
    const { recorder } = setup({ hold: held.opened });
    const pending = [recorder.record(record(0))];
    await turn();
    // One write in flight; 2,000 more waiting for it.
    for (let n = 1; n <= 2_000; n++) pending.push(recorder.record(record(n)));
    let ready = false;
    const waiting = recorder.ready().then(() => (ready = true));
    await turn();
    expect(ready).toBe(false);
    held.open();
    await waiting;
    await Promise.all(pending);
    expect(ready).toBe(true);
  });

  it('does not hold senders back while the backlog is under the bound', async () => {
    const held = gate();
    const { recorder } = setup({ hold: held.opened });
    const pending = Array.from({ length: 10 }, (_, n) => recorder.record(record(n)));
    await expect(recorder.ready()).resolves.toBeUndefined();
    held.open();
    await Promise.all(pending);
  });

  it('drains: resolves once everything handed in so far is written', async () => {
    const held = gate();
    const { recorder, events } = setup({ hold: held.opened });
    void recorder.record(record(1));
    let drained = false;
    const draining = recorder.drain().then(() => (drained = true));
    await turn();
    expect(drained).toBe(false);
    held.open();
    await draining;
    expect(events).toContain('commit 1');
  });
});
