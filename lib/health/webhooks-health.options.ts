import { WebhooksOptionsError } from '../webhooks.errors.js';

export interface WebhooksHealthOptions {
  /** The backlog is down once the longest-waiting due delivery has waited longer than this (default 10 minutes). */
  maxOldestPendingAgeMs?: number;
  /** ...or once more deliveries than this are pending (default: no limit). */
  maxPending?: number;
  /** How long the database and Redis may take to answer a check (default 2,000 ms). */
  timeoutMs?: number;
}

export interface ResolvedWebhooksHealthOptions {
  maxOldestPendingAgeMs: number;
  maxPending: number | null;
  timeoutMs: number;
}

export const WEBHOOKS_HEALTH_OPTIONS = Symbol('WEBHOOKS_HEALTH_OPTIONS');

const KNOWN = ['maxOldestPendingAgeMs', 'maxPending', 'timeoutMs'];

export function resolveHealthOptions(options: WebhooksHealthOptions = {}): ResolvedWebhooksHealthOptions {
  if (options === null || typeof options !== 'object') throw new WebhooksOptionsError('WebhooksHealthModule options must be an object');
  const unknown = Object.keys(options).find((key) => !KNOWN.includes(key));
  if (unknown) throw new WebhooksOptionsError(`unknown health option "${unknown}": valid ones are ${KNOWN.join(', ')}`);
  return {
    maxOldestPendingAgeMs: integer(options.maxOldestPendingAgeMs, 'maxOldestPendingAgeMs', 10 * 60 * 1_000, 0),
    maxPending: options.maxPending === undefined ? null : integer(options.maxPending, 'maxPending', 0, 0),
    timeoutMs: integer(options.timeoutMs, 'timeoutMs', 2_000, 1),
  };
}

function integer(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new WebhooksOptionsError(`health option "${name}" must be an integer of at least ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}
