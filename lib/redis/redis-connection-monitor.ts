import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { InjectWebhooksRedis } from '../webhooks.decorators.js';
import { WebhooksSetupError } from '../webhooks.errors.js';
import { describeRedisAddress } from './redis-address.js';
import type { WebhooksRedis } from './webhooks-redis.js';

/** `connecting` until the first attempt succeeds or fails. */
export type RedisState = 'connecting' | 'up' | 'down';

/** How often a Redis that stays away is mentioned again in the logs. */
export const REDIS_DOWN_REMINDER_MS = 30_000;

/**
 * The one place that knows whether the queue's Redis is reachable, from the events of the Bull queue's
 * client. Everything that talks to Redis asks it first, so while Redis is away nothing waits on it or
 * piles commands into the client's offline queue, and the outage is logged once when it starts, then
 * every 30 s, instead of once per failed command.
 */
@Injectable()
export class RedisConnectionMonitor implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('WebhooksRedis');
  private readonly client: WebhooksRedis['client'];
  /** Where the queue connects, without credentials. */
  readonly address: string;
  private current: RedisState;
  private lastError = 'connection closed';
  private downSince = 0;
  private reminder: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly upListeners = new Set<() => void>();
  private settledWaiters: Array<() => void> = [];
  /** Gives up on the commands in flight, when Redis goes down or the app stops. */
  private readonly abandoners = new Set<(reason: Error) => void>();
  private readonly detach: () => void;

  constructor(
    @InjectWebhooksRedis() connection: WebhooksRedis,
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
  ) {
    this.client = connection.client;
    this.address = describeRedisAddress(this.client.options);
    this.current = this.client.status === 'ready' ? 'up' : 'connecting';
    const onError = (error: Error) => {
      this.lastError = error.message || error.name;
    };
    const onDown = () => this.markDown();
    const onUp = () => this.markUp();
    this.client.on('error', onError).on('close', onDown).on('end', onDown).on('ready', onUp);
    this.detach = () => this.client.off('error', onError).off('close', onDown).off('end', onDown).off('ready', onUp);
    if (['reconnecting', 'close', 'end'].includes(this.client.status)) this.markDown();
  }

  get state(): RedisState {
    return this.current;
  }

  /** Known to be unreachable: callers should not wait for it, nor send it anything. */
  get isDown(): boolean {
    return this.current === 'down';
  }

  get isUp(): boolean {
    return this.current === 'up';
  }

  /** Calls `listener` each time Redis becomes reachable (again); returns how to stop. */
  onUp(listener: () => void): () => void {
    this.upListeners.add(listener);
    return () => this.upListeners.delete(listener);
  }

  /** Resolves once Redis is reachable: at once when it is. */
  whenUp(): Promise<void> {
    if (this.isUp) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.onUp(() => {
        stop();
        resolve();
      });
    });
  }

  /**
   * Sends a command unless Redis is known to be down, and gives up on it after `patienceMs`, as soon as
   * Redis goes down, or when the app starts stopping, whichever comes first, so nothing waits on a Redis
   * that is away. Commands sent while the app stops still go out, within their patience, until the queue's
   * connection closes (`onApplicationShutdown`): a stopping worker hands back what it claimed and releases
   * its locks through them. A command given up on may still run later: the client keeps it for the next connection.
   */
  async command<T>(send: () => Promise<T>, patienceMs: number): Promise<T> {
    if (this.isDown) throw this.unreachable();
    if (this.stopping) throw new Error('the app is stopping');
    let abandon!: (reason: Error) => void;
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    this.abandoners.add(abandon);
    const timer = setTimeout(() => abandon(new Error(`Redis at ${this.address} did not answer within ${patienceMs} ms`)), patienceMs);
    const work = send();
    work.catch(() => undefined); // it may settle after it was given up on
    try {
      return await Promise.race([work, abandoned]);
    } finally {
      clearTimeout(timer);
      this.abandoners.delete(abandon);
    }
  }

  /** With `redis.requiredAtBoot`, the boot fails here when the first connection attempt does. */
  async onModuleInit(): Promise<void> {
    if (!this.options.redis.requiredAtBoot) return;
    if (this.current === 'connecting') await new Promise<void>((resolve) => this.settledWaiters.push(resolve));
    if (this.current === 'down') {
      throw new WebhooksSetupError(
        `Redis at ${this.address} is unreachable (${this.lastError}) and redis.requiredAtBoot is on: ` +
          'start Redis or fix the connection given to BullModule.forRoot, or turn redis.requiredAtBoot off to boot without it',
      );
    }
  }

  /**
   * Gives up on the commands in flight, so that a pass waiting on Redis does not hold the shutdown, but
   * still sends new ones until `onApplicationShutdown`: the worker hands its claimed deliveries back to
   * the queue, and the leader locks are released, in `beforeApplicationShutdown` hooks that run with this one.
   */
  beforeApplicationShutdown(): void {
    clearInterval(this.reminder);
    this.detach();
    this.settledWaiters.splice(0).forEach((resolve) => resolve());
    this.abandonAll(new Error('the app is stopping'));
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  private unreachable(): Error {
    return new Error(`Redis at ${this.address} is unreachable (${this.lastError})`);
  }

  private abandonAll(reason: Error): void {
    for (const abandon of [...this.abandoners]) abandon(reason);
  }

  private markDown(): void {
    if (this.current === 'down') return;
    this.current = 'down';
    this.downSince = Date.now();
    this.settledWaiters.splice(0).forEach((resolve) => resolve());
    this.abandonAll(this.unreachable());
    if (this.stopping) return;
    this.logger.warn(
      `Redis at ${this.address} is unreachable (${this.lastError}). Webhook events are still stored; ` +
        'deliveries that could not be queued will be queued once it is back.',
    );
    this.reminder = setInterval(() => this.remind(), REDIS_DOWN_REMINDER_MS);
    this.reminder.unref();
  }

  private remind(): void {
    const seconds = Math.round((Date.now() - this.downSince) / 1_000);
    this.logger.warn(`Redis at ${this.address} is still unreachable after ${seconds} s (${this.lastError}).`);
  }

  private markUp(): void {
    const wasDown = this.current === 'down';
    this.current = 'up';
    clearInterval(this.reminder);
    this.reminder = undefined;
    this.settledWaiters.splice(0).forEach((resolve) => resolve());
    if (wasDown) {
      const seconds = Math.round((Date.now() - this.downSince) / 1_000);
      this.logger.log(`Redis at ${this.address} is reachable again after ${seconds} s.`);
    }
    for (const listener of [...this.upListeners]) {
      try {
        listener();
      } catch (error) {
        this.logger.error(`A task waiting for Redis failed: ${(error as Error).message}`);
      }
    }
  }
}
