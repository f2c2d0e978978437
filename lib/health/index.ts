// `nestjs-webhooks/health`: apart from the main entry, because it needs @nestjs/terminus, an optional peer dependency.
export { WebhooksHealthModule } from './webhooks-health.module.js';
export { WebhooksHealthIndicator, type WebhooksComponentHealth, type WebhooksHealthDetails } from './webhooks-health.indicator.js';
export type { WebhooksHealthOptions } from './webhooks-health.options.js';
