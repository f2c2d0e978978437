import { FairSlots } from './fair-slots.js';

describe('FairSlots', () => {
  let now = 0;
  const settled = () => new Promise((resolve) => setImmediate(resolve));

  /** Starts `count` acquisitions for `owner` and records the order in which they are granted. */
  function queue(slots: FairSlots, owner: string, count: number, granted: string[]): void {
    for (let i = 0; i < count; i++) void slots.acquire(owner).then(() => granted.push(owner));
  }

  beforeEach(() => {
    now = 1_000_000;
  });

  it('gives a single owner every slot', async () => {
    const slots = new FairSlots(10, 1, 10_000, () => now);
    const granted: string[] = [];
    queue(slots, 'solo', 12, granted);
    await settled();
    expect(granted).toHaveLength(10);
    slots.release('solo');
    await settled();
    expect(granted).toHaveLength(11);
  });

  it('keeps slots free for other owners while a noisy one holds most of them', async () => {
    const slots = new FairSlots(10, 2, 10_000, () => now);
    const granted: string[] = [];
    await slots.acquire('quiet');
    slots.release('quiet'); // two owners active recently: the reserve holds
    queue(slots, 'noisy', 20, granted);
    await settled();
    expect(slots.heldBy('noisy')).toBe(8);
    queue(slots, 'quiet', 1, granted);
    await settled();
    expect(slots.heldBy('quiet')).toBe(1); // no wait for the noisy owner's requests to end
  });

  it('lets owners take turns as slots free up, whatever arrived first', async () => {
    const slots = new FairSlots(2, 1, 10_000, () => now);
    const granted: string[] = [];
    queue(slots, 'a', 2, granted);
    await settled();
    queue(slots, 'a', 3, granted);
    queue(slots, 'b', 3, granted);
    await settled();
    for (let i = 0; i < 6; i++) {
      slots.release(granted[i]);
      await settled();
    }
    expect(granted).toEqual(['a', 'a', 'b', 'a', 'b', 'a', 'b', 'a']);
  });

  it('lifts the reserve once other owners have been quiet for a while', async () => {
    const slots = new FairSlots(10, 2, 10_000, () => now);
    await slots.acquire('other');
    slots.release('other');
    const granted: string[] = [];
    queue(slots, 'noisy', 10, granted);
    await settled();
    expect(granted).toHaveLength(8);
    now += 10_001;
    slots.release('noisy');
    await settled();
    expect(granted).toHaveLength(10); // the last two waiting take the reserved slots
    expect(slots.heldBy('noisy')).toBe(9);
  });
});
