import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { RedisConnectionMonitor } from '../redis/redis-connection-monitor.js';
import type { WebhooksRedis } from '../redis/webhooks-redis.js';
import { DeliveryBacklog } from '../store/delivery-backlog.js';
import { withinDeadline } from '../utils/deadline.js';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_REDIS } from '../webhooks.constants.js';
import { DeliveryWorker } from '../worker/delivery-worker.js';
import { judgeBacklog } from './backlog-verdict.js';
import { WEBHOOKS_HEALTH_OPTIONS, type ResolvedWebhooksHealthOptions } from './webhooks-health.options.js';

/** One part of the module's health, as it appears in the Terminus result. */
export interface WebhooksComponentHealth {
  status: 'up' | 'down';
  message?: string;
  [detail: string]: unknown;
}

export interface WebhooksHealthDetails {
  database: WebhooksComponentHealth;
  redis: WebhooksComponentHealth;
  worker: WebhooksComponentHealth;
  backlog: WebhooksComponentHealth;
}

/** Health checks read the backlog at most this often. */
const BACKLOG_FRESHNESS_MS = 1_000;

const TIMED_OUT = Symbol('timed out');

/**
 * A Terminus health indicator for the webhooks module: the database answers, Redis answers, this
 * process's delivery worker is running (when it has one), and no due delivery has waited longer
 * than the host allows. Down when any of them is, with a message naming which and why.
 */
@Injectable()
export class WebhooksHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(WEBHOOKS_HEALTH_OPTIONS) private readonly options: ResolvedWebhooksHealthOptions,
    @Inject(WEBHOOKS_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(WEBHOOKS_REDIS) private readonly connection: WebhooksRedis,
    private readonly redis: RedisConnectionMonitor,
    private readonly backlog: DeliveryBacklog,
    @Optional() private readonly worker?: DeliveryWorker,
  ) {}

  /** For `HealthCheckService.check([() => indicator.isHealthy()])`. */
  async isHealthy<const Key extends string = 'webhooks'>(key: Key = 'webhooks' as Key) {
    const [database, redis, backlog] = await Promise.all([this.checkDatabase(), this.checkRedis(), this.checkBacklog()]);
    const details: WebhooksHealthDetails = { database, redis, worker: this.checkWorker(), backlog };
    const session = this.indicators.check(key);
    const failing = Object.entries(details).filter(([, component]) => component.status === 'down');
    if (failing.length === 0) return session.up({ ...details });
    return session.down({ message: failing.map(([name, component]) => `${name}: ${component.message}`).join('; '), ...details });
  }

  private async checkDatabase(): Promise<WebhooksComponentHealth> {
    try {
      const answer = await withinDeadline(this.dataSource.query('SELECT 1'), this.options.timeoutMs, TIMED_OUT);
      if (answer === TIMED_OUT) return { status: 'down', message: `the database did not answer within ${this.options.timeoutMs} ms` };
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', message: `the database failed: ${(error as Error).message}` };
    }
  }

  private async checkRedis(): Promise<WebhooksComponentHealth> {
    try {
      await this.redis.command(() => this.connection.client.ping(), this.options.timeoutMs);
      return { status: 'up', address: this.redis.address };
    } catch (error) {
      const message = (error as Error).message;
      return {
        status: 'down',
        address: this.redis.address,
        message: message.startsWith('Redis') ? message : `Redis at ${this.redis.address}: ${message}`,
      };
    }
  }

  private checkWorker(): WebhooksComponentHealth {
    if (!this.worker) return { status: 'up', enabled: false };
    if (!this.worker.running)
      return { status: 'down', enabled: true, message: 'the delivery worker is not running (starting or shutting down)' };
    return { status: 'up', enabled: true, inFlight: this.worker.inFlightCount };
  }

  private async checkBacklog(): Promise<WebhooksComponentHealth> {
    try {
      const reading = await withinDeadline(this.backlog.read(BACKLOG_FRESHNESS_MS), this.options.timeoutMs, TIMED_OUT);
      if (reading === TIMED_OUT) return { status: 'down', message: `the backlog could not be read within ${this.options.timeoutMs} ms` };
      return { ...judgeBacklog(reading, Date.now(), this.options) };
    } catch (error) {
      return { status: 'down', message: `the backlog could not be read: ${(error as Error).message}` };
    }
  }
}
