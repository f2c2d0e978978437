import type { Redis } from 'ioredis';
import { withinDeadline } from '../utils/deadline.js';
import type { WebhooksRateLimitRule } from '../interfaces/webhooks-options.interface.js';

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Until the window resets. */
  resetInMs: number;
}

/** Counts a hit and returns the window's count and time left, atomically. */
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

/**
 * Fixed-window counter in Redis, so every instance of the host shares one budget per owner.
 * When Redis does not answer in time the request is let through: the management API should not
 * go down with the queue, and the database still guards every write.
 */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly patienceMs = 500,
  ) {}

  async hit(bucket: string, ownerId: string, rule: WebhooksRateLimitRule): Promise<RateLimitDecision | null> {
    const key = `${this.keyPrefix}:${bucket}:${ownerId}`;
    try {
      const reply = (await withinDeadline(this.redis.eval(HIT, 1, key, String(rule.windowMs)), this.patienceMs, null)) as
        [number, number] | null;
      if (!reply) return null;
      const [count, ttl] = reply;
      return { allowed: count <= rule.limit, limit: rule.limit, remaining: Math.max(0, rule.limit - count), resetInMs: ttl };
    } catch {
      return null;
    }
  }
}
