import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  it('lets one line per key through per window', () => {
    const throttle = new LogThrottle(60_000);
    expect(throttle.allow('wh_a', 0)).toBe(true);
    expect(throttle.allow('wh_a', 1)).toBe(false);
    expect(throttle.allow('wh_a', 59_999)).toBe(false);
    expect(throttle.allow('wh_b', 59_999)).toBe(true);
    expect(throttle.allow('wh_a', 60_000)).toBe(true);
    expect(throttle.allow('wh_a', 60_001)).toBe(false);
  });

  it('stays bounded: old keys are forgotten, and while every slot is recent new keys stay quiet', () => {
    const throttle = new LogThrottle(1_000, 2);
    expect(throttle.allow('a', 0)).toBe(true);
    expect(throttle.allow('b', 500)).toBe(true);
    expect(throttle.allow('c', 600)).toBe(false); // both slots still recent
    expect(throttle.allow('c', 1_000)).toBe(true); // 'a' is forgotten
    expect(throttle.allow('b', 1_100)).toBe(false); // 'b' is still remembered
    expect(throttle.allow('d', 1_200)).toBe(false);
  });
});
