import { isValidEventTypeName } from '../emit/event-catalog.js';
import { isReservedEventType } from '../emit/operational-event-types.js';
import { systemResolver, type HostResolver } from '../security/ssrf-guard.js';
import { parseEncryptionKey } from '../security/secret-cipher.js';
import { hkdfSync } from 'node:crypto';
import type { WebhooksModuleRootOptions, WebhooksRateLimitRule } from '../interfaces/webhooks-options.interface.js';
import { DEFAULT_PATH, DEFAULT_QUEUE_NAME } from '../webhooks.constants.js';
import { WebhooksOptionsError } from '../webhooks.errors.js';
import { assertKnownOptions, type OptionSection } from './option-names.js';
import { DEFAULT_RETRY_SCHEDULE, type ResolvedPortalOptions, type ResolvedWebhooksOptions } from './resolved-options.js';

const DAY = 24 * 60 * 60 * 1_000;

/** Validates what the host passed and fills in defaults; a bad option fails the boot with its name. */
export function resolveWebhooksOptions(raw: WebhooksModuleRootOptions | undefined | null): ResolvedWebhooksOptions {
  if (raw === null || typeof raw !== 'object') throw new WebhooksOptionsError('options must be an object');
  assertKnownOptions(raw, '');
  const controllers = optionalBoolean(raw.controllers, 'controllers', true);
  if (raw.authenticate !== undefined && typeof raw.authenticate !== 'function') {
    throw new WebhooksOptionsError('option "authenticate" must be a function');
  }
  if (controllers && raw.authenticate === undefined) {
    throw new WebhooksOptionsError(
      'option "authenticate" is required while controllers are on: pass authenticate(req) returning { ownerId } or null, ' +
        'or set controllers: false for a worker-only instance',
    );
  }
  const retry = section(raw.retry, 'retry');
  const delivery = section(raw.delivery, 'delivery');
  const security = section(raw.security, 'security');
  const signing = section(raw.signing, 'signing');
  const reconciler = section(raw.reconciler, 'reconciler');
  const disable = section(raw.disable, 'disable');
  const redis = section(raw.redis, 'redis');
  const concurrency = integer(delivery.concurrency, 'delivery.concurrency', 50, 1, 10_000);
  const path = resolvePath(raw.path);
  const encryptionKey = resolveEncryptionKey(security.encryptionKey);
  return {
    path,
    controllers,
    processor: optionalBoolean(raw.processor, 'processor', true),
    isGlobal: optionalBoolean(raw.isGlobal, 'isGlobal', true),
    dataSourceName: optionalString(raw.dataSourceName, 'dataSourceName'),
    queueName: resolveQueueName(raw.queueName),
    authenticate: raw.authenticate,
    authenticateTimeoutMs: integer(raw.authenticateTimeoutMs, 'authenticateTimeoutMs', 10_000, 10, 120_000),
    eventTypes: resolveEventTypes(raw.eventTypes),
    maxPayloadBytes: integer(raw.maxPayloadBytes, 'maxPayloadBytes', 256 * 1024, 64, 16 * 1024 * 1024),
    maxEndpointsPerOwner: integer(raw.maxEndpointsPerOwner, 'maxEndpointsPerOwner', 100, 1, 100_000),
    retry: {
      schedule: resolveSchedule(retry.schedule),
      maxRetryAfterMs: integer(retry.maxRetryAfterMs, 'retry.maxRetryAfterMs', 60 * 60 * 1_000, 0, 7 * DAY),
    },
    delivery: {
      timeoutMs: integer(delivery.timeoutMs, 'delivery.timeoutMs', 15_000, 10, 5 * 60 * 1_000),
      concurrency,
      perEndpointConcurrency: integer(
        delivery.perEndpointConcurrency,
        'delivery.perEndpointConcurrency',
        Math.min(10, concurrency),
        1,
        concurrency,
      ),
      shutdownGraceMs: integer(delivery.shutdownGraceMs, 'delivery.shutdownGraceMs', 10_000, 0, 10 * 60 * 1_000),
      responseBodyLimitBytes: integer(delivery.responseBodyLimitBytes, 'delivery.responseBodyLimitBytes', 4_096, 0, 32 * 1024),
      circuitBreaker: resolveCircuitBreaker(delivery.circuitBreaker),
      propagateTraceContext: optionalBoolean(delivery.propagateTraceContext, 'delivery.propagateTraceContext', false),
    },
    security: {
      allowHttp: optionalBoolean(security.allowHttp, 'security.allowHttp', false),
      allowPrivateNetworks: optionalBoolean(security.allowPrivateNetworks, 'security.allowPrivateNetworks', false),
      encryptionKey,
      resolveHost: resolveHostResolver(security.resolveHost),
    },
    signing: {
      rotationOverlapMs: integer(signing.rotationOverlapMs, 'signing.rotationOverlapMs', DAY, 0, 30 * DAY),
    },
    rateLimit: resolveRateLimit(raw.rateLimit),
    reconciler: {
      intervalMs: integer(reconciler.intervalMs, 'reconciler.intervalMs', 15_000, 50, DAY),
      staleAfterMs: integer(reconciler.staleAfterMs, 'reconciler.staleAfterMs', 5 * 60 * 1_000, 0, DAY),
    },
    disable: {
      afterFailingForMs: integer(disable.afterFailingForMs, 'disable.afterFailingForMs', 5 * DAY, 0, 365 * DAY),
      minFailures: integer(disable.minFailures, 'disable.minFailures', 5, 1, 1_000_000),
    },
    retention: resolveRetention(raw.retention),
    hooks: resolveHooks(raw.hooks),
    redis: {
      requiredAtBoot: optionalBoolean(redis.requiredAtBoot, 'redis.requiredAtBoot', false),
    },
    portal: resolvePortal(raw.portal, path, encryptionKey),
  };
}

/** An option section as an object (empty when left out) whose every key is a known option of that section. */
function section(value: unknown, name: OptionSection): Record<string, any> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WebhooksOptionsError(`option "${name}" must be an object`);
  }
  assertKnownOptions(value, name);
  return value as Record<string, any>;
}

function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new WebhooksOptionsError(`option "${name}" must be true or false, got ${describe(value)}`);
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new WebhooksOptionsError(`option "${name}" must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new WebhooksOptionsError(`option "${name}" must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function resolvePath(value: unknown): string {
  if (value === undefined) return DEFAULT_PATH;
  if (typeof value !== 'string') throw new WebhooksOptionsError(`option "path" must be a string, got ${describe(value)}`);
  const path = value.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(path)) {
    throw new WebhooksOptionsError(`option "path" must be a plain route prefix such as "v1/webhooks", got ${describe(value)}`);
  }
  return path;
}

function resolveQueueName(value: unknown): string {
  if (value === undefined) return DEFAULT_QUEUE_NAME;
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(value)) {
    throw new WebhooksOptionsError(`option "queueName" must be 1-100 letters, digits, ".", "_" or "-", got ${describe(value)}`);
  }
  return value;
}

function resolveEventTypes(value: unknown): ResolvedWebhooksOptions['eventTypes'] {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new WebhooksOptionsError('option "eventTypes" must be an array');
  const seen = new Set<string>();
  return value.map((entry, index) => {
    const name = typeof entry === 'string' ? entry : entry?.name;
    if (!isValidEventTypeName(name)) {
      throw new WebhooksOptionsError(
        `eventTypes[${index}] must be a dot-separated name such as "user.created" ` +
          `(or { name, description?, schema? }), got ${describe(entry)}`,
      );
    }
    if (seen.has(name)) throw new WebhooksOptionsError(`eventTypes[${index}]: "${name}" is listed twice`);
    if (isReservedEventType(name)) {
      throw new WebhooksOptionsError(
        `eventTypes[${index}]: "${name}" is reserved (names under "webhook." are the module's operational events)`,
      );
    }
    seen.add(name);
    if (typeof entry === 'object') {
      assertKnownOptions(entry, 'eventTypes', `eventTypes[${index}]`);
      if (entry.description !== undefined && typeof entry.description !== 'string') {
        throw new WebhooksOptionsError(`eventTypes[${index}].description must be a string`);
      }
      if (entry.schema !== undefined && (entry.schema === null || typeof entry.schema !== 'object')) {
        throw new WebhooksOptionsError(`eventTypes[${index}].schema must be a JSON Schema object`);
      }
    }
    return entry;
  });
}

function resolveSchedule(value: unknown): number[] {
  if (value === undefined) return [...DEFAULT_RETRY_SCHEDULE];
  if (!Array.isArray(value) || value.length > 50) {
    throw new WebhooksOptionsError('option "retry.schedule" must be an array of at most 50 delays in ms');
  }
  value.forEach((delay, index) => integer(delay, `retry.schedule[${index}]`, 0, 0, 7 * DAY));
  return [...value];
}

function resolveCircuitBreaker(value: unknown): ResolvedWebhooksOptions['delivery']['circuitBreaker'] {
  const breaker = section(value, 'delivery.circuitBreaker');
  const baseBackoffMs = integer(breaker.baseBackoffMs, 'delivery.circuitBreaker.baseBackoffMs', 1_000, 10, 60 * 60 * 1_000);
  return {
    failuresToOpen: integer(breaker.failuresToOpen, 'delivery.circuitBreaker.failuresToOpen', 10, 1, 1_000),
    baseBackoffMs,
    maxBackoffMs: integer(
      breaker.maxBackoffMs,
      'delivery.circuitBreaker.maxBackoffMs',
      Math.max(60_000, baseBackoffMs),
      baseBackoffMs,
      24 * 60 * 60 * 1_000,
    ),
  };
}

function resolveRateLimit(value: unknown): ResolvedWebhooksOptions['rateLimit'] {
  if (value === false) return false;
  const limits = section(value, 'rateLimit');
  return {
    write: resolveRule(limits.write, 'rateLimit.write', { limit: 100, windowMs: 60_000 }),
    read: resolveRule(limits.read, 'rateLimit.read', { limit: 1_000, windowMs: 60_000 }),
  };
}

function resolveRule(value: unknown, name: 'rateLimit.write' | 'rateLimit.read', fallback: WebhooksRateLimitRule): WebhooksRateLimitRule {
  if (value === undefined) return fallback;
  const rule = section(value, name);
  return {
    limit: integer(rule.limit, `${name}.limit`, fallback.limit, 1, 1_000_000),
    windowMs: integer(rule.windowMs, `${name}.windowMs`, fallback.windowMs, 100, DAY),
  };
}

function resolveRetention(value: unknown): ResolvedWebhooksOptions['retention'] {
  if (value === false) return false;
  const retention = section(value, 'retention');
  return {
    days: integer(retention.days, 'retention.days', 30, 1, 3_650),
    intervalMs: integer(retention.intervalMs, 'retention.intervalMs', 60 * 60 * 1_000, 1_000, DAY),
    // SQLite binds at most 32,766 values per statement; a purge batch binds one per row.
    batchSize: integer(retention.batchSize, 'retention.batchSize', 1_000, 1, 10_000),
  };
}

function resolveHooks(value: unknown): ResolvedWebhooksOptions['hooks'] {
  const hooks = Object.fromEntries(Object.entries(section(value, 'hooks')).filter(([, hook]) => hook !== undefined));
  for (const name of Object.keys(hooks)) {
    if (typeof hooks[name] !== 'function') throw new WebhooksOptionsError(`option "hooks.${name}" must be a function`);
  }
  return hooks;
}

const FRAME_SOURCE = /^(?:'self'|'none'|https?:\/\/(?:\*\.)?[A-Za-z0-9.-]+(?::[0-9]{1,5})?)$/;
const PORTAL_URL = /^(?:https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?)?\/[A-Za-z0-9._~/%-]*$/;

function resolvePortal(value: unknown, path: string, encryptionKey: Buffer | null): ResolvedPortalOptions | false {
  if (value === undefined || value === false) return false;
  const portal = section(value, 'portal');
  const title = portal.title === undefined ? 'Webhooks' : portal.title;
  if (typeof title !== 'string' || title.trim().length === 0 || title.length > 100) {
    throw new WebhooksOptionsError(`option "portal.title" must be a string of 1-100 characters, got ${describe(portal.title)}`);
  }
  return {
    title,
    logoUrl: resolvePortalUrl(portal.logoUrl, 'portal.logoUrl', 'an https:// URL or a path such as "/logo.svg"', true),
    accentColor: resolveAccentColor(portal.accentColor),
    frameAncestors: resolveFrameAncestors(portal.frameAncestors),
    sessionTtlMs: integer(portal.sessionTtlMs, 'portal.sessionTtlMs', 60 * 60 * 1_000, 1_000, 7 * DAY),
    signingKey: resolvePortalSigningKey(portal.signingKey, encryptionKey),
    publicUrl:
      resolvePortalUrl(portal.publicUrl, 'portal.publicUrl', 'a URL or a path such as "/v1/webhooks/portal"', false) ?? `/${path}/portal`,
  };
}

/** Both end up in a response header (img-src) or a link, so only plain URL characters pass. */
function resolvePortalUrl(value: unknown, name: string, expected: string, httpsOnly: boolean): string | null {
  if (value === undefined) return null;
  const plain = typeof value === 'string' && PORTAL_URL.test(value) && !value.startsWith('//');
  if (!plain || (httpsOnly && (value as string).startsWith('http://'))) {
    throw new WebhooksOptionsError(`option "${name}" must be ${expected}, without query or fragment, got ${describe(value)}`);
  }
  return value as string;
}

function resolveAccentColor(value: unknown): string {
  if (value === undefined) return '#2563eb';
  if (typeof value !== 'string' || !/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(value)) {
    throw new WebhooksOptionsError(`option "portal.accentColor" must be a colour as #rgb or #rrggbb, got ${describe(value)}`);
  }
  return value;
}

function resolveFrameAncestors(value: unknown): string[] {
  if (value === undefined) return ["'self'"];
  if (!Array.isArray(value) || value.length === 0 || value.length > 20) {
    throw new WebhooksOptionsError(`option "portal.frameAncestors" must be an array of 1-20 sources, got ${describe(value)}`);
  }
  value.forEach((source, index) => {
    if (typeof source !== 'string' || !FRAME_SOURCE.test(source)) {
      throw new WebhooksOptionsError(
        `option "portal.frameAncestors[${index}]" must be "'self'", "'none'" ` +
          `or an origin such as "https://app.example.com", got ${describe(source)}`,
      );
    }
  });
  if (value.includes("'none'") && value.length > 1) {
    throw new WebhooksOptionsError(`option "portal.frameAncestors": "'none'" cannot be combined with other sources`);
  }
  return [...value];
}

function resolvePortalSigningKey(value: unknown, encryptionKey: Buffer | null): Buffer {
  if (value !== undefined) {
    if (typeof value !== 'string' || value.length < 32) {
      throw new WebhooksOptionsError(
        'option "portal.signingKey" must be a string of at least 32 characters, e.g. `openssl rand -base64 32`',
      );
    }
    return Buffer.from(value, 'utf8');
  }
  if (encryptionKey) return Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'nestjs-webhooks portal links', 32));
  throw new WebhooksOptionsError(
    'option "portal.signingKey" is required while the portal is on (or set security.encryptionKey, and the key is derived from it): ' +
      'at least 32 random characters, the same on every instance',
  );
}

function resolveEncryptionKey(value: unknown): Buffer | null {
  if (value === undefined) return null;
  const key = typeof value === 'string' ? parseEncryptionKey(value) : null;
  if (!key) {
    throw new WebhooksOptionsError(
      'option "security.encryptionKey" must be 32 random bytes as 64 hex characters or base64, e.g. `openssl rand -base64 32`',
    );
  }
  return key;
}

function resolveHostResolver(value: unknown): HostResolver {
  if (value === undefined) return systemResolver;
  if (typeof value !== 'function') throw new WebhooksOptionsError('option "security.resolveHost" must be a function');
  return value as HostResolver;
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
