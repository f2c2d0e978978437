import { findExecutable, startPrivateRedis } from './private-redis-server.js';
import { pingRedis } from './redis-ping.js';

export interface RedisConnection {
  url: string;
  /** True when the sample started its own `redis-server` for this run. */
  isPrivate: boolean;
  stop(): Promise<void>;
}

/** No Redis to use; the message says how to get one. */
export class RedisUnavailableError extends Error {}

/** The Redis at `url` if one answers, else a private `redis-server` started for this run. */
export async function ensureRedis(url: string): Promise<RedisConnection> {
  if (await pingRedis(url)) return { url, isPrivate: false, stop: async () => undefined };
  const binary = findExecutable('redis-server');
  if (!binary) {
    throw new RedisUnavailableError(
      [
        `No Redis answers at ${url}, and there is no redis-server on PATH to start one.`,
        'Get one of these, then run the sample again:',
        '  Debian/Ubuntu:  sudo apt-get install redis-server',
        '  macOS:          brew install redis',
        '  Docker:         docker run --rm -p 6379:6379 redis:7',
        'or point REDIS_URL at a Redis you have, e.g. REDIS_URL=redis://127.0.0.1:6379 npm run sample',
      ].join('\n'),
    );
  }
  const server = await startPrivateRedis(binary);
  return { url: server.url, isPrivate: true, stop: () => server.stop() };
}
