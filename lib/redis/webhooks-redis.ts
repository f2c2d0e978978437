import type { Provider } from '@nestjs/common';
import type { Queue } from 'bull';
import { WEBHOOKS_QUEUE, WEBHOOKS_REDIS } from '../webhooks.constants.js';

/** The Redis connection the module shares with its Bull queue, and where its own keys live. */
export interface WebhooksRedis {
  client: Queue['client'];
  /** The full key for one of the module's own entries (under the queue's prefix, like Bull's keys). */
  key(name: string): string;
}

/** `WEBHOOKS_REDIS`: the queue's client, so that locks, rate limits and markers use one connection. */
export const webhooksRedisProvider: Provider = {
  provide: WEBHOOKS_REDIS,
  inject: [WEBHOOKS_QUEUE],
  useFactory: (queue: Queue): WebhooksRedis => ({ client: queue.client, key: (name) => queue.toKey(name) }),
};
