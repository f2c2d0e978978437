import type { IncomingHttpHeaders } from 'node:http';
import type { WebhooksModuleRootOptions } from 'nestjs-webhooks';
import type { ApiKeys } from './auth/api-keys.js';
import { USER_EVENT_TYPES } from './users/user-events.js';

/** How this app configures `WebhooksModule`. */
export function webhooksOptions(apiKeys: ApiKeys, queueName: string): WebhooksModuleRootOptions {
  return {
    queueName,
    eventTypes: [...USER_EVENT_TYPES],
    // The same API keys as the rest of the API: each account manages, and receives, its own webhooks.
    authenticate: (req: { headers: IncomingHttpHeaders }) => {
      const accountId = apiKeys.accountFor(req.headers);
      return accountId ? { ownerId: accountId } : null;
    },
    // The sample's receiver listens on http://127.0.0.1; never turn these on in production.
    security: { allowHttp: true, allowPrivateNetworks: true },
    // Seconds instead of the production schedule of hours, so a failed attempt retries within the run.
    retry: { schedule: [500, 1_000, 2_000, 4_000] },
    delivery: { timeoutMs: 5_000 },
  };
}
