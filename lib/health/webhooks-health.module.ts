import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { WebhooksHealthIndicator } from './webhooks-health.indicator.js';
import { resolveHealthOptions, WEBHOOKS_HEALTH_OPTIONS, type WebhooksHealthOptions } from './webhooks-health.options.js';

/**
 * Provides `WebhooksHealthIndicator` for the host's Terminus health checks. It reads the webhooks
 * module's providers, so `WebhooksModule` must be global (`isGlobal`, the default).
 */
@Module({})
export class WebhooksHealthModule {
  static forRoot(options: WebhooksHealthOptions = {}): DynamicModule {
    return {
      module: WebhooksHealthModule,
      imports: [TerminusModule],
      providers: [{ provide: WEBHOOKS_HEALTH_OPTIONS, useValue: resolveHealthOptions(options) }, WebhooksHealthIndicator],
      exports: [WebhooksHealthIndicator],
    };
  }
}
