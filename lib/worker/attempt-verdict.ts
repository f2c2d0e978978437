import type { RetryPolicy } from '../config/retry-policy.js';
import type { SendOutcome } from './webhook-sender.js';

export type AttemptVerdict =
  { status: 'succeeded' } | { status: 'pending'; retryInMs: number } | { status: 'failed'; reason: string; disableEndpoint: boolean };

/**
 * What an attempt means for its delivery. Any 2xx succeeds; 410 Gone means the receiver retired the
 * URL, so we stop at once; everything else retries on the schedule until it is exhausted.
 */
export function judgeAttempt(
  outcome: SendOutcome,
  attempt: number,
  policy: Pick<RetryPolicy, 'nextAttemptDelay' | 'honouringReceiver'>,
): AttemptVerdict {
  const code = outcome.statusCode;
  if (code !== null && code >= 200 && code < 300) return { status: 'succeeded' };
  if (code === 410) return { status: 'failed', reason: 'endpoint answered 410 Gone', disableEndpoint: true };
  const scheduled = policy.nextAttemptDelay(attempt);
  if (scheduled === null) return { status: 'failed', reason: 'retry schedule exhausted', disableEndpoint: false };
  const receiverAsked = code === 429 || code === 503 ? outcome.retryAfterMs : null;
  return { status: 'pending', retryInMs: policy.honouringReceiver(scheduled, receiverAsked) };
}
