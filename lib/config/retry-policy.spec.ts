import { nextRetryDelay, parseRetryAfter, retryDelayHonouringReceiver, RetryPolicy } from './retry-policy.js';

describe('retry policy', () => {
  const schedule = [1_000, 60_000];

  it('follows the schedule with ±20 % jitter and stops when it is exhausted', () => {
    expect(nextRetryDelay(schedule, 1, () => 0)).toBe(800);
    expect(nextRetryDelay(schedule, 1, () => 1)).toBe(1_200);
    expect(nextRetryDelay(schedule, 2, () => 0.5)).toBe(60_000);
    expect(nextRetryDelay(schedule, 3)).toBeNull();
    expect(nextRetryDelay([], 1)).toBeNull();
  });

  it('keeps jittered delays within bounds over many draws', () => {
    for (let i = 0; i < 1_000; i++) {
      const delay = nextRetryDelay(schedule, 2)!;
      expect(delay).toBeGreaterThanOrEqual(48_000);
      expect(delay).toBeLessThanOrEqual(72_000);
    }
  });

  it('reads Retry-After as seconds or an HTTP date and ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 3 ', now)).toBe(3_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter(['7', '9'], now)).toBe(7_000);
  });

  it('waits at least as long as the receiver asks, up to the bound, never less than the schedule', () => {
    expect(retryDelayHonouringReceiver(5_000, null, 3_600_000)).toBe(5_000);
    expect(retryDelayHonouringReceiver(5_000, 60_000, 3_600_000)).toBe(60_000);
    expect(retryDelayHonouringReceiver(5_000, 0, 3_600_000)).toBe(5_000);
    expect(retryDelayHonouringReceiver(5_000, 86_400_000, 3_600_000)).toBe(3_600_000);
  });
});

describe('RetryPolicy', () => {
  const policy = (random: () => number) =>
    new RetryPolicy(
      {
        retry: { schedule: [1_000, 60_000], maxRetryAfterMs: 30_000 },
        delivery: { circuitBreaker: { failuresToOpen: 10, baseBackoffMs: 1_000, maxBackoffMs: 60_000 } },
      },
      random,
    );

  it('owns the delivery schedule, the Retry-After bound and the breaker settings from the options', () => {
    const p = policy(() => 0.5);
    expect([p.nextAttemptDelay(1), p.nextAttemptDelay(2), p.nextAttemptDelay(3)]).toEqual([1_000, 60_000, null]);
    expect(p.honouringReceiver(1_000, 3_600_000)).toBe(30_000);
    expect(p.circuit).toEqual({ failuresToOpen: 10, baseBackoffMs: 1_000, maxBackoffMs: 60_000 });
  });

  it('pauses a write through a transient failure four times, doubling, then gives up', () => {
    const p = policy(() => 0.5);
    expect([1, 2, 3, 4, 5].map((failures) => p.transientPause(failures))).toEqual([200, 400, 800, 1_600, null]);
  });

  it('sends a job back later each time, within ±50 %, never beyond 30 s', () => {
    expect([1, 2, 3, 8, 50].map((returns) => policy(() => 0.5).sendBackDelay(returns))).toEqual([250, 500, 1_000, 30_000, 30_000]);
    expect(policy(() => 0).sendBackDelay(1)).toBe(125);
    expect(policy(() => 0.999).sendBackDelay(20)).toBeLessThan(45_000);
  });
});
