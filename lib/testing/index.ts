export { WebhooksTestingModule } from './webhooks-testing.module.js';
export type { WebhooksTestingModuleOptions } from './testing-options.js';
export { WebhooksRecorder, type RecordedEvent, type RecordedDelivery, type EventMatcher } from './webhooks-recorder.js';
export { generateSecret as generateWebhookSecret } from '../security/webhook-secret.js';
