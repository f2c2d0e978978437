import { CreateWebhookTables1764400000000 } from './1764400000000-create-webhook-tables.js';
import { AddAttemptEndpoint1764500000000 } from './1764500000000-add-attempt-endpoint.js';
import { AddEventTraceContext1764600000000 } from './1764600000000-add-event-trace-context.js';

export { CreateWebhookTables1764400000000, AddAttemptEndpoint1764500000000, AddEventTraceContext1764600000000 };

/** Add these to the host's `migrations` when running with `synchronize: false`, in this order. */
export const WEBHOOK_MIGRATIONS = [CreateWebhookTables1764400000000, AddAttemptEndpoint1764500000000, AddEventTraceContext1764600000000];
