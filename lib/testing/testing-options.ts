import { rejectUnknownKeys } from '../config/option-names.js';
import { resolveWebhooksOptions } from '../config/resolve-options.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import type { WebhooksModuleOptions } from '../interfaces/webhooks-options.interface.js';
import { SECRET_PREFIX } from '../security/webhook-secret.js';
import { WebhooksOptionsError } from '../webhooks.errors.js';

/** `WebhooksTestingModule.forRoot` options. */
export interface WebhooksTestingModuleOptions {
  /** The same catalog as `WebhooksModule`'s: with it, emitting an unlisted type fails as it does in production. */
  eventTypes?: WebhooksModuleOptions['eventTypes'];
  /** The same cap as `WebhooksModule`'s (default 256 KiB); 65535 reproduces MySQL/MariaDB's TEXT column. */
  maxPayloadBytes?: number;
  /** POST each event, signed as the worker signs it, to this `http://` or `https://` URL before `emit` resolves. */
  deliverTo?: string;
  /** The endpoint secret deliveries to `deliverTo` are signed with (`whsec_` + base64, as the management API issues). */
  secret?: string;
  /** Whether `WebhookPublisher` and `WebhooksRecorder` can be injected anywhere (default true, as `WebhooksModule`). */
  isGlobal?: boolean;
}

/** Where `deliverTo` sends, and the secret it signs with. */
export interface LocalTarget {
  url: string;
  secret: string;
}

export interface ResolvedTestingOptions {
  /** Options in the shape the real publisher and signer read, validated by the same code. */
  webhooks: ResolvedWebhooksOptions;
  deliverTo: LocalTarget | null;
}

const MODULE_NAME = 'WebhooksTestingModule';

const TESTING_OPTION_NAMES: readonly string[] = Object.keys({
  eventTypes: true,
  maxPayloadBytes: true,
  deliverTo: true,
  secret: true,
  isGlobal: true,
} satisfies { [K in keyof Required<WebhooksTestingModuleOptions>]: true });

/** Standard Webhooks recommends keys of 24 to 64 bytes; the management API issues 32. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/** Validates with `WebhooksModule`'s own checks where the options are the same, and names this module in every error. */
export function resolveTestingOptions(raw: WebhooksTestingModuleOptions | undefined | null): ResolvedTestingOptions {
  try {
    return resolve(raw ?? {});
  } catch (error) {
    const prefix = 'WebhooksModule: ';
    if (error instanceof WebhooksOptionsError && error.message.startsWith(prefix)) {
      throw new WebhooksOptionsError(error.message.slice(prefix.length), MODULE_NAME);
    }
    throw error;
  }
}

function resolve(raw: WebhooksTestingModuleOptions): ResolvedTestingOptions {
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new WebhooksOptionsError('options must be an object', MODULE_NAME);
  rejectUnknownKeys(raw, TESTING_OPTION_NAMES, '', ` of ${MODULE_NAME}.forRoot`);
  const { eventTypes, maxPayloadBytes, deliverTo, secret, isGlobal } = raw;
  // No routes, no worker: nothing asks for authenticate, a data source or a queue.
  const webhooks = resolveWebhooksOptions({ controllers: false, processor: false, eventTypes, maxPayloadBytes, isGlobal });
  if (deliverTo === undefined) {
    if (secret !== undefined)
      throw new WebhooksOptionsError('option "secret" signs deliveries to deliverTo: set deliverTo too, or leave secret out', MODULE_NAME);
    return { webhooks, deliverTo: null };
  }
  return { webhooks, deliverTo: { url: resolveUrl(deliverTo), secret: resolveSecret(secret) } };
}

function resolveUrl(value: unknown): string {
  let url: URL | null = null;
  try {
    url = typeof value === 'string' ? new URL(value) : null;
  } catch {
    // Reported below, with what was given.
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new WebhooksOptionsError(`option "deliverTo" must be an absolute http:// or https:// URL, got ${describe(value)}`, MODULE_NAME);
  }
  return url.href;
}

function resolveSecret(value: unknown): string {
  if (value === undefined) {
    throw new WebhooksOptionsError(
      'option "secret" is required with deliverTo: the receiver under test verifies signatures with it',
      MODULE_NAME,
    );
  }
  const encoded = typeof value === 'string' && value.startsWith(SECRET_PREFIX) ? value.slice(SECRET_PREFIX.length) : null;
  const bytes = encoded !== null && /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64') : null;
  // A character outside base64 would be skipped by the decoder, and the receiver's key would differ from ours.
  const canonical = bytes !== null && bytes.toString('base64').replace(/=+$/, '') === encoded!.replace(/=+$/, '');
  if (!canonical || bytes!.length < MIN_SECRET_BYTES || bytes!.length > MAX_SECRET_BYTES) {
    throw new WebhooksOptionsError(
      `option "secret" must be "${SECRET_PREFIX}" followed by base64 of ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES} bytes, ` +
        `as the management API issues, got ${typeof value === 'string' ? `${value.length} characters` : describe(value)}`,
      MODULE_NAME,
    );
  }
  return value as string;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return value === null ? 'null' : typeof value;
}
