import { CreateWebhookTables1764400000000 } from './1764400000000-create-webhook-tables.js';
import { AddEventTraceContext1764500000000 } from './1764500000000-add-event-trace-context.js';

export { CreateWebhookTables1764400000000, AddEventTraceContext1764500000000 };

/** Add these to the host's `migrations` when running with `synchronize: false`. */
export const WEBHOOK_MIGRATIONS = [CreateWebhookTables1764400000000, AddEventTraceContext1764500000000];
