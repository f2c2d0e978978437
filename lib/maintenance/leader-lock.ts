import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisConnectionMonitor } from '../redis/redis-connection-monitor.js';

const TAKE_OR_RENEW = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** How long a lock command may take before the pass gives up on it (the client may still run it). */
const LOCK_PATIENCE_MS = 5_000;

/**
 * A lease in Redis that elects one instance for periodic chores. The holder renews it on every
 * pass; if it dies, the key expires and another instance takes over.
 */
export class LeaderLock {
  private readonly token = randomBytes(12).toString('base64url');

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly connection: RedisConnectionMonitor,
  ) {}

  /**
   * Takes or renews the lease; false when another instance holds it, and when Redis is away or does not
   * answer in time (should the command run later, this instance holds a lease it renews on its next pass).
   */
  async acquire(ttlMs: number): Promise<boolean> {
    const taken = await this.connection
      .command(() => this.redis.eval(TAKE_OR_RENEW, 1, this.key, this.token, String(ttlMs)), LOCK_PATIENCE_MS)
      .catch(() => 0);
    return taken === 1;
  }

  /** Gives the lease up, if Redis answers; otherwise it expires. */
  async release(): Promise<void> {
    await this.connection.command(() => this.redis.eval(RELEASE, 1, this.key, this.token), LOCK_PATIENCE_MS).catch(() => undefined);
  }
}
