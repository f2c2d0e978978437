/** Kept in step with package.json by `lib/webhooks.constants.spec.ts`. */
export const PACKAGE_VERSION = '0.1.0';
export const USER_AGENT = `nestjs-webhooks/${PACKAGE_VERSION}`;

// String tokens survive the dual CommonJS/ESM build: two copies of the package still agree on them.
export const WEBHOOKS_OPTIONS = 'nestjs-webhooks:options';
export const WEBHOOKS_DATA_SOURCE = 'nestjs-webhooks:data-source';
export const WEBHOOKS_QUEUE = 'nestjs-webhooks:queue';
export const WEBHOOKS_REDIS = 'nestjs-webhooks:redis';

export const DEFAULT_QUEUE_NAME = 'webhooks';
export const DEFAULT_PATH = 'v1/webhooks';

/** Event type sent by `POST /:id/test`; always accepted, never needs a catalog entry. */
export const TEST_EVENT_TYPE = 'webhook.test';

export const PERMISSION_READ = 'webhooks:read';
export const PERMISSION_WRITE = 'webhooks:write';
