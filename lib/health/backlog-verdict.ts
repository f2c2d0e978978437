import { oldestPendingAgeMs, type BacklogReading } from '../store/delivery-backlog.js';

/** When the backlog counts as unhealthy. */
export interface BacklogLimits {
  maxOldestPendingAgeMs: number;
  /** Null: any number of pending deliveries is fine as long as none waits too long. */
  maxPending: number | null;
}

export interface BacklogVerdict {
  status: 'up' | 'down';
  pending: number;
  oldestPendingAgeSeconds: number;
  message?: string;
}

/** Down when the longest-waiting due delivery has waited past the limit, or too many are pending. */
export function judgeBacklog(reading: BacklogReading, now: number, limits: BacklogLimits): BacklogVerdict {
  const ageMs = oldestPendingAgeMs(reading, now);
  const measured = { pending: reading.pending, oldestPendingAgeSeconds: Math.round(ageMs) / 1_000 };
  const problems: string[] = [];
  if (ageMs > limits.maxOldestPendingAgeMs) {
    problems.push(`the oldest due delivery has waited ${seconds(ageMs)}, over the limit of ${seconds(limits.maxOldestPendingAgeMs)}`);
  }
  if (limits.maxPending !== null && reading.pending > limits.maxPending) {
    problems.push(`${reading.pending} deliveries are pending, over the limit of ${limits.maxPending}`);
  }
  return problems.length === 0 ? { status: 'up', ...measured } : { status: 'down', ...measured, message: problems.join('; ') };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
