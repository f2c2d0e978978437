import { UnqueuedDeliveries } from './unqueued-deliveries.js';

describe('UnqueuedDeliveries', () => {
  it('gives back what it holds, oldest first, in portions', () => {
    const held = new UnqueuedDeliveries(10);
    held.hold([
      { id: 'a', dueAt: 1 },
      { id: 'b', dueAt: 2 },
    ]);
    held.hold([{ id: 'c', dueAt: 3 }]);
    expect(held.take(2)).toEqual([
      { id: 'a', dueAt: 1 },
      { id: 'b', dueAt: 2 },
    ]);
    expect(held.take(2)).toEqual([{ id: 'c', dueAt: 3 }]);
    expect(held.size).toBe(0);
  });

  it('refuses what is beyond its capacity and says how many', () => {
    const held = new UnqueuedDeliveries(2);
    expect(
      held.hold([
        { id: 'a', dueAt: 1 },
        { id: 'b', dueAt: 1 },
        { id: 'c', dueAt: 1 },
      ]),
    ).toBe(1);
    expect(held.take(10).map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('holds an id once, with its latest due time, even when full', () => {
    const held = new UnqueuedDeliveries(1);
    held.hold([{ id: 'a', dueAt: 1 }]);
    expect(held.hold([{ id: 'a', dueAt: 5 }])).toBe(0);
    expect(held.take(10)).toEqual([{ id: 'a', dueAt: 5 }]);
  });
});
