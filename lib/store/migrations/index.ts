import { CreateWebhookTables1764400000000 } from './1764400000000-create-webhook-tables.js';

export { CreateWebhookTables1764400000000 };

/** Add these to the host's `migrations` when running with `synchronize: false`. */
export const WEBHOOK_MIGRATIONS = [CreateWebhookTables1764400000000];
