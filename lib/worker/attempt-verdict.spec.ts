import { RetryPolicy } from '../config/retry-policy.js';
import { judgeAttempt } from './attempt-verdict.js';
import type { SendOutcome } from './webhook-sender.js';

const policy = (random: () => number = Math.random) =>
  new RetryPolicy(
    {
      retry: { schedule: [1_000, 2_000], maxRetryAfterMs: 60_000 },
      delivery: { circuitBreaker: { failuresToOpen: 3, baseBackoffMs: 1_000, maxBackoffMs: 8_000 } },
    },
    random,
  );
const rules = policy();
const half = policy(() => 0.5);
const outcome = (statusCode: number | null, retryAfterMs: number | null = null): SendOutcome => ({
  statusCode,
  retryAfterMs,
  durationMs: 1,
  error: null,
  responseBody: null,
});

describe('judgeAttempt', () => {
  it('treats every 2xx as success', () => {
    for (const code of [200, 201, 202, 204, 299]) expect(judgeAttempt(outcome(code), 1, rules)).toEqual({ status: 'succeeded' });
  });

  it('retries 3xx, 4xx, 5xx and network failures on the schedule', () => {
    for (const code of [301, 302, 400, 401, 404, 500, 502, null]) {
      expect(judgeAttempt(outcome(code), 1, half)).toEqual({ status: 'pending', retryInMs: 1_000 });
    }
    expect(judgeAttempt(outcome(500), 2, half)).toEqual({ status: 'pending', retryInMs: 2_000 });
  });

  it('fails once the schedule is exhausted', () => {
    expect(judgeAttempt(outcome(500), 3, rules)).toEqual({ status: 'failed', reason: 'retry schedule exhausted', disableEndpoint: false });
  });

  it('stops and disables the endpoint on 410 Gone, even on the first attempt', () => {
    expect(judgeAttempt(outcome(410), 1, rules)).toEqual({ status: 'failed', reason: 'endpoint answered 410 Gone', disableEndpoint: true });
  });

  it('honours Retry-After on 429 and 503 only, within the bound', () => {
    expect(judgeAttempt(outcome(429, 30_000), 1, half)).toEqual({ status: 'pending', retryInMs: 30_000 });
    expect(judgeAttempt(outcome(503, 999_999), 1, half)).toEqual({ status: 'pending', retryInMs: 60_000 });
    expect(judgeAttempt(outcome(500, 30_000), 1, half)).toEqual({ status: 'pending', retryInMs: 1_000 });
  });
});
