import { HttpException, HttpStatus, Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RedisConnectionMonitor } from '../redis/redis-connection-monitor.js';
import type { WebhooksRedis } from '../redis/webhooks-redis.js';
import { InjectWebhooksRedis } from '../webhooks.decorators.js';
import type { WebhookPrincipal } from '../interfaces/webhook-principal.interface.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { RateLimiter } from './rate-limiter.js';
import { PRINCIPAL, WEBHOOK_ACCESS, type WebhookAccess } from './webhook-access.js';

/**
 * Per-owner budgets for reads and writes, shared across instances through the queue's Redis. While
 * Redis is unreachable requests are let through at once: the management API should not go down with
 * the queue, and the database still guards every write.
 */
@Injectable()
export class WebhooksRateLimitGuard implements CanActivate {
  private readonly logger = new Logger('WebhooksRateLimit');
  private readonly limiter: RateLimiter;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly reflector: Reflector,
    private readonly redis: RedisConnectionMonitor,
    @InjectWebhooksRedis() connection: WebhooksRedis,
  ) {
    this.limiter = new RateLimiter(connection.client, connection.key('ratelimit'));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rules = this.options.rateLimit;
    if (rules === false || this.redis.isDown) return true;
    const http = context.switchToHttp();
    const principal: WebhookPrincipal = http.getRequest()[PRINCIPAL];
    const access = this.reflector.get<WebhookAccess>(WEBHOOK_ACCESS, context.getHandler()) ?? 'write';
    const decision = await this.limiter.hit(access, principal.ownerId, rules[access]);
    if (!decision) {
      this.logger.warn('Redis did not answer the rate limiter in time; letting the request through');
      return true;
    }
    const response = http.getResponse();
    const resetSeconds = Math.max(1, Math.ceil(decision.resetInMs / 1_000));
    response.setHeader('X-RateLimit-Limit', String(decision.limit));
    response.setHeader('X-RateLimit-Remaining', String(decision.remaining));
    response.setHeader('X-RateLimit-Reset', String(resetSeconds));
    if (decision.allowed) return true;
    response.setHeader('Retry-After', String(resetSeconds));
    throw new HttpException(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: `rate limit of ${decision.limit} ${access}s per ${rules[access].windowMs} ms exceeded; retry in ${resetSeconds} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
