import { DeliveryDispatcher } from './delivery-dispatcher.js';
import type { DeliveryQueue, DelayedDelivery } from './delivery-queue.js';
import type { LocalWorker } from './local-handoff.js';
import type { OwnedDeliveries } from './owned-deliveries.js';

/** The queue as the dispatcher sees it: records what it is given. */
function recordingQueue() {
  const queued: DelayedDelivery[][] = [];
  const enqueue = async (items: readonly DelayedDelivery[]) => {
    queued.push([...items]);
    return true;
  };
  const queue = { enqueue } as unknown as DeliveryQueue;
  return { queue, queued };
}

/** A local worker with room for `room` deliveries in all, recording its claims. */
function localWorker(room: number, fail = false) {
  const claims: OwnedDeliveries[][] = [];
  const worker: LocalWorker = {
    reserve: () => null,
    release: () => undefined,
    adopt: () => undefined,
    claimCommitted: async (deliveries) => {
      claims.push(deliveries.map(({ owner, ids }) => ({ owner, ids: [...ids] })));
      if (fail) throw new Error('database away');
      const rest: OwnedDeliveries[] = [];
      for (const { owner, ids } of deliveries) {
        const taken = Math.min(room, ids.length);
        room -= taken;
        if (taken < ids.length) rest.push({ owner, ids: ids.slice(taken) });
      }
      return rest;
    },
  };
  return { worker, claims };
}

describe('DeliveryDispatcher', () => {
  it('queues everything, with its owner, where this process runs no worker', async () => {
    const { queue, queued } = recordingQueue();
    const dispatcher = new DeliveryDispatcher(queue);
    expect(dispatcher.handoff()).toBeUndefined();
    await dispatcher.dispatch([
      { owner: 'a', ids: ['d1', 'd2'] },
      { owner: 'b', ids: [] },
    ]);
    expect(queued).toEqual([
      [
        { id: 'd1', owner: 'a', delayMs: 0 },
        { id: 'd2', owner: 'a', delayMs: 0 },
      ],
    ]);
  });

  it('lets the local worker claim what it has room for, in one claim per turn, and queues the rest', async () => {
    const { queue, queued } = recordingQueue();
    const { worker, claims } = localWorker(2);
    const dispatcher = new DeliveryDispatcher(queue);
    dispatcher.attachLocalWorker(worker);
    expect(dispatcher.handoff()).toBeDefined();
    await Promise.all([dispatcher.dispatch([{ owner: 'a', ids: ['d1'] }]), dispatcher.dispatch([{ owner: 'b', ids: ['d2', 'd3'] }])]);
    expect(claims).toEqual([
      [
        { owner: 'a', ids: ['d1'] },
        { owner: 'b', ids: ['d2', 'd3'] },
      ],
    ]);
    expect(queued.flat()).toEqual([{ id: 'd3', owner: 'b', delayMs: 0 }]);
  });

  it('queues everything when the local claim fails', async () => {
    const { queue, queued } = recordingQueue();
    const { worker } = localWorker(10, true);
    const dispatcher = new DeliveryDispatcher(queue);
    dispatcher.attachLocalWorker(worker);
    await dispatcher.dispatch([{ owner: 'a', ids: ['d1'] }]);
    expect(queued.flat()).toEqual([{ id: 'd1', owner: 'a', delayMs: 0 }]);
  });
});
