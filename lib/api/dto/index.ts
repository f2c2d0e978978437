export * from './create-webhook.dto.js';
export * from './page-query.dto.js';
export * from './recover-webhook.dto.js';
export * from './update-webhook.dto.js';
export * from './stats-query.dto.js';
