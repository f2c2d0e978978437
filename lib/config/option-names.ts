import type { WebhookEventTypeDefinition } from '../interfaces/event-type.interface.js';
import type {
  WebhooksCircuitBreakerOptions,
  WebhooksDeliveryOptions,
  WebhooksDisableOptions,
  WebhooksHooks,
  WebhooksModuleAsyncOptions,
  WebhooksModuleOptions,
  WebhooksModuleShapeOptions,
  WebhooksPortalOptions,
  WebhooksRateLimitOptions,
  WebhooksRateLimitRule,
  WebhooksReconcilerOptions,
  WebhooksRedisOptions,
  WebhooksRetentionOptions,
  WebhooksRetryOptions,
  WebhooksSecurityOptions,
  WebhooksSigningOptions,
} from '../interfaces/webhooks-options.interface.js';
import { WebhooksOptionsError } from '../webhooks.errors.js';
import { nearestName } from './nearest-name.js';

/** The names of `T`'s keys; the compiler refuses a name `T` lacks and a key of `T` left out. */
function namesOf<T>(names: { [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(names));
}

/** Options that decide the module's shape: `forRootAsync` takes them beside `useFactory`, never from it. */
export const SHAPE_OPTION_NAMES = namesOf<WebhooksModuleShapeOptions>({
  path: true,
  controllers: true,
  processor: true,
  dataSourceName: true,
  queueName: true,
  isGlobal: true,
});

const MODULE_OPTION_NAMES = namesOf<WebhooksModuleOptions>({
  authenticate: true,
  authenticateTimeoutMs: true,
  eventTypes: true,
  maxPayloadBytes: true,
  maxEndpointsPerOwner: true,
  retry: true,
  delivery: true,
  security: true,
  signing: true,
  rateLimit: true,
  reconciler: true,
  disable: true,
  retention: true,
  hooks: true,
  redis: true,
  portal: true,
});

const RATE_LIMIT_RULE_NAMES = namesOf<WebhooksRateLimitRule>({ limit: true, windowMs: true });

/**
 * Every option name, by section (`''` is the top level of `forRoot`): the one list that unknown keys are
 * checked against, so a typo fails the boot instead of being ignored.
 */
export const OPTION_NAMES = {
  '': [...SHAPE_OPTION_NAMES, ...MODULE_OPTION_NAMES],
  retry: namesOf<WebhooksRetryOptions>({ schedule: true, maxRetryAfterMs: true }),
  delivery: namesOf<WebhooksDeliveryOptions>({
    timeoutMs: true,
    concurrency: true,
    perEndpointConcurrency: true,
    shutdownGraceMs: true,
    responseBodyLimitBytes: true,
    circuitBreaker: true,
    propagateTraceContext: true,
  }),
  'delivery.circuitBreaker': namesOf<WebhooksCircuitBreakerOptions>({ failuresToOpen: true, baseBackoffMs: true, maxBackoffMs: true }),
  security: namesOf<WebhooksSecurityOptions>({ allowHttp: true, allowPrivateNetworks: true, encryptionKey: true, resolveHost: true }),
  signing: namesOf<WebhooksSigningOptions>({ rotationOverlapMs: true }),
  rateLimit: namesOf<WebhooksRateLimitOptions>({ write: true, read: true }),
  'rateLimit.write': RATE_LIMIT_RULE_NAMES,
  'rateLimit.read': RATE_LIMIT_RULE_NAMES,
  reconciler: namesOf<WebhooksReconcilerOptions>({ intervalMs: true, staleAfterMs: true }),
  disable: namesOf<WebhooksDisableOptions>({ afterFailingForMs: true, minFailures: true }),
  retention: namesOf<WebhooksRetentionOptions>({ days: true, intervalMs: true, batchSize: true }),
  hooks: namesOf<WebhooksHooks>({ onEndpointDisabled: true, onDeliveryFailed: true, onEndpointRecovered: true }),
  redis: namesOf<WebhooksRedisOptions>({ requiredAtBoot: true }),
  portal: namesOf<WebhooksPortalOptions>({
    title: true,
    logoUrl: true,
    accentColor: true,
    frameAncestors: true,
    sessionTtlMs: true,
    signingKey: true,
    publicUrl: true,
  }),
  eventTypes: namesOf<WebhookEventTypeDefinition>({ name: true, description: true, schema: true }),
} as const;

export type OptionSection = keyof typeof OPTION_NAMES;

/** What `forRootAsync` itself takes; the rest comes from `useFactory`. */
const ASYNC_OPTION_NAMES = [
  ...namesOf<Omit<WebhooksModuleAsyncOptions, keyof WebhooksModuleShapeOptions>>({
    imports: true,
    inject: true,
    useFactory: true,
    useClass: true,
    useExisting: true,
  }),
  ...SHAPE_OPTION_NAMES,
];

/**
 * Fails on the first key of `value` that `section` does not have, naming it with its section and the
 * nearest valid name. `label` is how the section is written in the message (`eventTypes[2]`, say).
 */
export function assertKnownOptions(value: object, section: OptionSection, label: string = section): void {
  rejectUnknownKeys(value, OPTION_NAMES[section], label);
}

/** `forRootAsync({ ... })` itself: its own keys and the shape options. */
export function assertKnownAsyncOptions(value: object): void {
  rejectUnknownKeys(value, ASYNC_OPTION_NAMES, '', ' of WebhooksModule.forRootAsync');
}

/**
 * What `forRootAsync`'s `useFactory` returned: module options only. A shape option there would come too
 * late, since the routes and providers are already fixed, so it is refused with where to move it.
 */
export function assertKnownFactoryOptions(value: object): void {
  for (const key of Object.keys(value)) {
    if (SHAPE_OPTION_NAMES.includes(key)) {
      throw new WebhooksOptionsError(
        `option "${key}" decides the module's shape, so useFactory cannot return it: pass it to forRootAsync beside useFactory, ` +
          `as in forRootAsync({ ${key}: ..., useFactory })`,
      );
    }
  }
  rejectUnknownKeys(value, MODULE_OPTION_NAMES, '', " in what forRootAsync's useFactory returned");
}

/** Fails on the first key of `value` not in `valid`, naming the nearest valid one; `prefix` is the section, `where` ends the message. */
export function rejectUnknownKeys(value: object, valid: readonly string[], prefix: string, where = ''): void {
  const qualified = (name: string) => (prefix ? `${prefix}.${name}` : name);
  for (const key of Object.keys(value)) {
    if (valid.includes(key)) continue;
    const nearest = nearestName(key, valid);
    const hint = nearest ? `did you mean ${qualified(nearest)}?` : `valid ones are ${valid.map(qualified).join(', ')}`;
    throw new WebhooksOptionsError(`unknown option "${qualified(key)}"${where}: ${hint}`);
  }
}
