import { judgeBacklog } from './backlog-verdict';

describe('judgeBacklog', () => {
  const limits = { maxOldestPendingAgeMs: 60_000, maxPending: null };

  it('is up while the oldest due delivery waits less than the limit, however many are pending', () => {
    expect(judgeBacklog({ pending: 50_000, oldestDueAt: 10_000, readAt: 0 }, 70_000, limits)).toEqual({
      status: 'up',
      pending: 50_000,
      oldestPendingAgeSeconds: 60,
    });
    expect(judgeBacklog({ pending: 0, oldestDueAt: null, readAt: 0 }, 70_000, limits).status).toBe('up');
  });

  it('is down past the age limit, saying by how much', () => {
    const verdict = judgeBacklog({ pending: 3, oldestDueAt: 10_000, readAt: 0 }, 70_001, limits);
    expect(verdict).toEqual({
      status: 'down',
      pending: 3,
      oldestPendingAgeSeconds: 60.001,
      message: 'the oldest due delivery has waited 60 s, over the limit of 60 s',
    });
  });

  it('is down with more pending deliveries than maxPending, when set', () => {
    const capped = { ...limits, maxPending: 100 };
    expect(judgeBacklog({ pending: 100, oldestDueAt: 69_000, readAt: 0 }, 70_000, capped).status).toBe('up');
    expect(judgeBacklog({ pending: 101, oldestDueAt: 69_000, readAt: 0 }, 70_000, capped).message).toBe(
      '101 deliveries are pending, over the limit of 100',
    );
  });
});
