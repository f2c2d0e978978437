import type { ModuleMetadata, Type } from '@nestjs/common';
import type { WebhookEventType } from './event-type.interface.js';
import type { WebhookPrincipal } from './webhook-principal.interface.js';

export interface WebhooksRetryOptions {
  /** Delay before each retry, in ms. `schedule.length + 1` attempts in all. */
  schedule?: number[];
  /** Upper bound for a receiver's `Retry-After` on 429/503. */
  maxRetryAfterMs?: number;
}

export interface WebhooksDeliveryOptions {
  /** Whole-request timeout: connect, send, headers and body. */
  timeoutMs?: number;
  /** In-flight deliveries per worker process. */
  concurrency?: number;
  /** Most in-flight deliveries to one endpoint per worker process; new endpoints start lower and ramp up. */
  perEndpointConcurrency?: number;
  /** On shutdown, how long in-flight deliveries may finish; the rest are abandoned unrecorded and sent again after their lease expires. */
  shutdownGraceMs?: number;
  /** How much of a receiver's response body is read and stored. */
  responseBodyLimitBytes?: number;
  /** When a failing endpoint is shut out, and for how long (per worker process). */
  circuitBreaker?: WebhooksCircuitBreakerOptions;
  /** Send each attempt's W3C `traceparent` header to the receiver (OpenTelemetry tracing only; default false). */
  propagateTraceContext?: boolean;
}

export interface WebhooksCircuitBreakerOptions {
  /** Consecutive failed requests that open an endpoint's circuit. */
  failuresToOpen?: number;
  /** How long an endpoint is shut out when its circuit opens; each failed probe doubles it. */
  baseBackoffMs?: number;
  /** The longest an endpoint is shut out before it is probed again. */
  maxBackoffMs?: number;
}

export interface WebhooksSecurityOptions {
  /** Accept `http://` endpoint URLs (development and tests). */
  allowHttp?: boolean;
  /** Allow loopback, private and link-local targets (development and tests). */
  allowPrivateNetworks?: boolean;
  /** 32-byte key (64 hex characters or base64) to encrypt endpoint secrets at rest with AES-256-GCM. */
  encryptionKey?: string;
  /** Resolves endpoint hostnames at send time; defaults to the system resolver (`dns.lookup`). */
  resolveHost?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
}

export interface WebhooksSigningOptions {
  /** How long a rotated-out secret keeps signing. */
  rotationOverlapMs?: number;
}

export interface WebhooksRateLimitRule {
  limit: number;
  windowMs: number;
}

export interface WebhooksRateLimitOptions {
  /** Per owner, for routes that change something or reveal a secret (POST, PATCH, DELETE, GET /:id/secret). */
  write?: WebhooksRateLimitRule;
  /** Per owner, for GET routes. */
  read?: WebhooksRateLimitRule;
}

export interface WebhooksDisableOptions {
  /** An endpoint failing without a single success for this long is disabled. */
  afterFailingForMs?: number;
  /** ...provided it failed at least this many attempts in that time. */
  minFailures?: number;
}

export interface WebhooksRetentionOptions {
  /** Finished events, deliveries and attempts older than this are deleted. */
  days?: number;
  /** How often one elected instance purges. */
  intervalMs?: number;
  /** Rows per delete statement, so a purge never holds long locks. */
  batchSize?: number;
}

/** Operational notifications for the host (alerting, metrics, emails to the endpoint's owner). */
export interface WebhooksHooks {
  onEndpointDisabled?: (event: { endpointId: string; ownerId: string; reason: string }) => void | Promise<void>;
  onDeliveryFailed?: (event: {
    deliveryId: string;
    endpointId: string;
    ownerId: string;
    eventId: string;
    eventType: string;
    attempts: number;
    lastError: string | null;
  }) => void | Promise<void>;
  /** A failing endpoint answered 2xx again. */
  onEndpointRecovered?: (event: { endpointId: string; ownerId: string; failingSince: Date }) => void | Promise<void>;
}

export interface WebhooksReconcilerOptions {
  /** How often one elected instance looks for deliveries that fell out of Redis. */
  intervalMs?: number;
  /** A pending delivery due for longer than this, with no live lease, is queued again. */
  staleAfterMs?: number;
}

export interface WebhooksRedisOptions {
  /**
   * Fail the boot when Redis cannot be reached at start-up. Off by default: the app then boots, every event
   * is still stored, and what could not be queued is queued once Redis is back.
   */
  requiredAtBoot?: boolean;
}

/** The customer portal served at `GET {path}/portal` (see docs/portal.md). */
export interface WebhooksPortalOptions {
  /** Shown in the page's header and title. */
  title?: string;
  /** An `https://` URL or a path on this origin (`/logo.svg`); its origin is added to the page's `img-src`. */
  logoUrl?: string;
  /** Buttons and highlights, as `#rgb` or `#rrggbb`; the text on it is black or white, whichever contrasts more. */
  accentColor?: string;
  /** Who may frame the page: the CSP `frame-ancestors` sources, such as `["'self'", "https://app.example.com"]`. */
  frameAncestors?: string[];
  /** How long a `createSession` link lasts unless it says otherwise, in ms. */
  sessionTtlMs?: number;
  /**
   * At least 32 characters that sign portal links (HMAC-SHA256); the same on every instance. Defaults
   * to a key derived from `security.encryptionKey`; one of the two is required.
   */
  signingKey?: string;
  /** Where the page is served publicly, for the links `createSession` returns; default `/{path}/portal`. */
  publicUrl?: string;
}

/** Options that decide the module's shape; `forRootAsync` takes them outside `useFactory`. */
export interface WebhooksModuleShapeOptions {
  /** Route prefix of every management route. */
  path?: string;
  /** `false` for a worker-only instance. */
  controllers?: boolean;
  /** `false` for an API-only instance. */
  processor?: boolean;
  /** Name of the host's TypeORM data source, when it is not the default one. */
  dataSourceName?: string;
  /** Bull queue name; give each app sharing a Redis its own. */
  queueName?: string;
  /** Register the module globally, so its services can be injected anywhere (default true). */
  isGlobal?: boolean;
}

export interface WebhooksModuleOptions {
  authenticate?: (req: any) => WebhookPrincipal | null | undefined | Promise<WebhookPrincipal | null | undefined>;
  /**
   * How long `authenticate` may take, in ms. A request whose `authenticate` has not settled by then
   * is answered 503, so a hung identity provider cannot hold requests (and `app.close()`) forever.
   */
  authenticateTimeoutMs?: number;
  eventTypes?: WebhookEventType[];
  /** Largest serialized event (envelope included) `emit` accepts. */
  maxPayloadBytes?: number;
  /** Most endpoints one owner may register; one more is refused with 409. */
  maxEndpointsPerOwner?: number;
  retry?: WebhooksRetryOptions;
  delivery?: WebhooksDeliveryOptions;
  security?: WebhooksSecurityOptions;
  signing?: WebhooksSigningOptions;
  /** `false` turns rate limiting off. */
  rateLimit?: WebhooksRateLimitOptions | false;
  reconciler?: WebhooksReconcilerOptions;
  disable?: WebhooksDisableOptions;
  /** `false` keeps everything forever. */
  retention?: WebhooksRetentionOptions | false;
  hooks?: WebhooksHooks;
  redis?: WebhooksRedisOptions;
  /** The embeddable customer portal; off (`false`) by default. */
  portal?: WebhooksPortalOptions | false;
}

export interface WebhooksModuleRootOptions extends WebhooksModuleOptions, WebhooksModuleShapeOptions {}

/** A class that `forRootAsync({ useClass })` or `useExisting` names: it supplies the options. */
export interface WebhooksOptionsFactory {
  createWebhooksOptions(): WebhooksModuleOptions | Promise<WebhooksModuleOptions>;
}

export interface WebhooksModuleAsyncOptions extends WebhooksModuleShapeOptions, Pick<ModuleMetadata, 'imports'> {
  inject?: any[];
  useFactory?: (...args: any[]) => WebhooksModuleOptions | Promise<WebhooksModuleOptions>;
  useClass?: Type<WebhooksOptionsFactory>;
  useExisting?: Type<WebhooksOptionsFactory>;
}
