import type { Provider } from '@nestjs/common';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { DeliveryBacklog } from '../store/delivery-backlog.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { loadOpenTelemetry } from './open-telemetry-api.js';
import { OpenTelemetryWebhooks } from './open-telemetry-webhooks.js';
import { WebhooksTelemetry } from './webhooks-telemetry.js';

/**
 * OpenTelemetry instruments when `@opentelemetry/api` is installed, else the no-op base. Created at
 * boot: hosts register their SDK (MeterProvider) before creating the app, as with any instrumentation.
 */
export const webhooksTelemetryProvider: Provider = {
  provide: WebhooksTelemetry,
  inject: [WEBHOOKS_OPTIONS, DeliveryBacklog],
  useFactory: async (options: ResolvedWebhooksOptions, backlog: DeliveryBacklog): Promise<WebhooksTelemetry> => {
    const api = await loadOpenTelemetry();
    return api ? new OpenTelemetryWebhooks(api, options.delivery.propagateTraceContext, backlog) : new WebhooksTelemetry();
  },
};
