import type { SendOutcome } from './webhook-sender.js';
import { nextRetryDelay, retryDelayHonouringReceiver } from './retry-policy.js';

export type AttemptVerdict =
  | { status: 'succeeded' }
  | { status: 'pending'; retryInMs: number }
  | { status: 'failed'; reason: string; disableEndpoint: boolean };

export interface RetryRules {
  schedule: readonly number[];
  maxRetryAfterMs: number;
}

/**
 * What an attempt means for its delivery. Any 2xx succeeds; 410 Gone means the receiver retired the
 * URL, so we stop at once; everything else retries on the schedule until it is exhausted.
 */
export function judgeAttempt(outcome: SendOutcome, attempt: number, rules: RetryRules, random: () => number = Math.random): AttemptVerdict {
  const code = outcome.statusCode;
  if (code !== null && code >= 200 && code < 300) return { status: 'succeeded' };
  if (code === 410) return { status: 'failed', reason: 'endpoint answered 410 Gone', disableEndpoint: true };
  const scheduled = nextRetryDelay(rules.schedule, attempt, random);
  if (scheduled === null) return { status: 'failed', reason: 'retry schedule exhausted', disableEndpoint: false };
  const receiverAsked = code === 429 || code === 503 ? outcome.retryAfterMs : null;
  return { status: 'pending', retryInMs: retryDelayHonouringReceiver(scheduled, receiverAsked, rules.maxRetryAfterMs) };
}
