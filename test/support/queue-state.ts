import { Redis } from 'ioredis';
import { REDIS_URL } from './test-app.js';

/**
 * Jobs a Bull queue still holds (waiting, paused, delayed or being worked on). Zero means every job
 * queued so far, delayed retries included, has been taken and finished: a state that proves a
 * worker has had its chance to act on them, without waiting on a clock.
 */
export async function queuedJobs(queueName: string, redisUrl = REDIS_URL): Promise<number> {
  const redis = new Redis(redisUrl);
  try {
    const key = (name: string) => `bull:${queueName}:${name}`;
    const [wait, paused, active, delayed] = await Promise.all([
      redis.llen(key('wait')),
      redis.llen(key('paused')),
      redis.llen(key('active')),
      redis.zcard(key('delayed')),
    ]);
    return wait + paused + active + delayed;
  } finally {
    redis.disconnect();
  }
}
