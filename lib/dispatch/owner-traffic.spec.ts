import { OwnerTraffic } from './owner-traffic.js';

describe('OwnerTraffic', () => {
  let now = 0;

  it('calls an owner light until it passes the limit within a window, and light again after', () => {
    const traffic = new OwnerTraffic(100, () => now);
    expect(traffic.add('a', 60)).toBe(true);
    expect(traffic.add('b', 1)).toBe(true);
    expect(traffic.add('a', 40)).toBe(true);
    expect(traffic.add('a', 1)).toBe(false);
    expect(traffic.add('b', 1)).toBe(true); // owners are counted apart
    now += 10_001;
    expect(traffic.add('a', 1)).toBe(true);
  });
});
