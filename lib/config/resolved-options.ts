import type { HostResolver } from '../security/ssrf-guard.js';
import type { WebhookEventType } from '../interfaces/event-type.interface.js';
import type { WebhooksHooks, WebhooksModuleRootOptions, WebhooksRateLimitRule } from '../interfaces/webhooks-options.interface.js';

/** Options after validation, with every default filled in. */
export interface ResolvedWebhooksOptions {
  path: string;
  controllers: boolean;
  processor: boolean;
  isGlobal: boolean;
  dataSourceName: string | undefined;
  queueName: string;
  authenticate: NonNullable<WebhooksModuleRootOptions['authenticate']> | undefined;
  authenticateTimeoutMs: number;
  eventTypes: WebhookEventType[] | undefined;
  maxPayloadBytes: number;
  maxEndpointsPerOwner: number;
  retry: { schedule: number[]; maxRetryAfterMs: number };
  delivery: {
    timeoutMs: number;
    concurrency: number;
    perEndpointConcurrency: number;
    responseBodyLimitBytes: number;
    shutdownGraceMs: number;
    circuitBreaker: { failuresToOpen: number; baseBackoffMs: number; maxBackoffMs: number };
    propagateTraceContext: boolean;
  };
  security: {
    allowHttp: boolean;
    allowPrivateNetworks: boolean;
    encryptionKey: Buffer | null;
    resolveHost: HostResolver;
  };
  signing: { rotationOverlapMs: number };
  rateLimit: { write: WebhooksRateLimitRule; read: WebhooksRateLimitRule } | false;
  reconciler: { intervalMs: number; staleAfterMs: number };
  disable: { afterFailingForMs: number; minFailures: number };
  retention: { days: number; intervalMs: number; batchSize: number } | false;
  hooks: WebhooksHooks;
  redis: { requiredAtBoot: boolean };
  portal: ResolvedPortalOptions | false;
}

export interface ResolvedPortalOptions {
  title: string;
  logoUrl: string | null;
  accentColor: string;
  frameAncestors: string[];
  sessionTtlMs: number;
  signingKey: Buffer;
  publicUrl: string;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const DEFAULT_RETRY_SCHEDULE = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR];
