import { Inject, Injectable, Logger } from '@nestjs/common';
import type { WebhooksHooks } from '../interfaces/webhooks-options.interface.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';

type HookEvent<K extends keyof WebhooksHooks> = Parameters<NonNullable<WebhooksHooks[K]>>[0];

/** Calls the host's hooks without ever letting one break or stall delivery. */
@Injectable()
export class OperationalHooks {
  private readonly logger = new Logger('WebhookHooks');

  constructor(@Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions) {}

  notify<K extends keyof WebhooksHooks>(name: K, event: HookEvent<K>): void {
    const hook = this.options.hooks[name] as ((event: HookEvent<K>) => unknown) | undefined;
    if (!hook) return;
    Promise.resolve()
      .then(() => hook(event))
      .catch((error) => this.logger.error(`hooks.${name} threw: ${(error as Error)?.message ?? error}`));
  }
}
