import { CreateWebhookTables1764400000000 } from './1764400000000-create-webhook-tables.js';
import { AddAttemptEndpoint1764500000000 } from './1764500000000-add-attempt-endpoint.js';

export { AddAttemptEndpoint1764500000000, CreateWebhookTables1764400000000 };

/** Add these to the host's `migrations` when running with `synchronize: false`. */
export const WEBHOOK_MIGRATIONS = [CreateWebhookTables1764400000000, AddAttemptEndpoint1764500000000];
