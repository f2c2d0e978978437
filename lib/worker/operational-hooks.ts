import { Inject, Injectable, Logger } from '@nestjs/common';
import type { WebhooksHooks } from '../interfaces/webhooks-options.interface.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { OperationalWebhooks } from '../emit/operational-webhooks.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';

type HookEvent<K extends keyof WebhooksHooks> = Parameters<NonNullable<WebhooksHooks[K]>>[0];

/**
 * Tells the host (its hooks) and the owner (operational webhooks) what happened to an endpoint or a
 * delivery, without ever letting either break or stall delivery.
 */
@Injectable()
export class OperationalHooks {
  private readonly logger = new Logger('WebhookHooks');

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly webhooks: OperationalWebhooks,
  ) {}

  /** The host's hook runs once the owner's operational webhook is stored (or found unwanted). */
  notify<K extends keyof WebhooksHooks>(name: K, event: HookEvent<K>): void {
    const hook = this.options.hooks[name] as ((event: HookEvent<K>) => unknown) | undefined;
    void this.webhooks
      .send(name, event)
      .then(() => hook?.(event))
      .catch((error) => this.logger.error(`hooks.${name} threw: ${(error as Error)?.message ?? error}`));
  }
}
