import type { Attributes, BatchObservableCallback, Counter, Histogram, Meter, ObservableGauge, Span, Tracer } from '@opentelemetry/api';
import type { LeasedDelivery } from '../store/delivery-store.js';
import { oldestPendingAgeMs, type DeliveryBacklog } from '../store/delivery-backlog.js';
import { idTime } from '../utils/id.js';
import { attemptErrorType, httpTarget, type HttpTarget } from './http-attributes.js';
import type { OpenTelemetry } from './open-telemetry-api.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';
import { WebhooksTelemetry, type AttemptOutcome, type AttemptTelemetry, type EndpointDisabledReason } from './webhooks-telemetry.js';

/** The instrumentation scope of every metric and span. */
export const INSTRUMENTATION_SCOPE = 'nestjs-webhooks';

/** The instrument names: a contract with dashboards and alerts (docs/observability.md). */
export const METRICS = {
  eventsEmitted: 'webhooks.events.emitted',
  deliveryAttempts: 'webhooks.delivery.attempts',
  deliveryDuration: 'webhooks.delivery.duration',
  deliveryLag: 'webhooks.delivery.lag',
  deliveriesPending: 'webhooks.deliveries.pending',
  oldestPendingAge: 'webhooks.deliveries.oldest_pending_age',
  endpointsDisabled: 'webhooks.endpoints.disabled',
} as const;

export const EMIT_SPAN = 'webhooks.emit';

/** Gauges are read from the database at most this often, however often they are scraped. */
export const BACKLOG_READ_INTERVAL_MS = 5_000;

/** Parsed endpoint URLs kept for span attributes; beyond this the cache starts over. */
const MAX_CACHED_TARGETS = 1_000;

// Request times run from milliseconds to the timeout; lag from milliseconds (the local hand-off) to hours (a backlog).
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Records through `@opentelemetry/api`: a no-op until the host registers an SDK, as the API intends. */
export class OpenTelemetryWebhooks extends WebhooksTelemetry {
  private readonly tracer: Tracer;
  private readonly meter: Meter;
  private readonly emitted: Counter;
  readonly attempts: Counter;
  readonly duration: Histogram;
  private readonly lag: Histogram;
  private readonly disabled: Counter;
  private readonly gauges: ObservableGauge[];
  private readonly observeBacklog: BatchObservableCallback;
  private readonly targets = new Map<string, HttpTarget | null>();

  constructor(
    readonly api: OpenTelemetry,
    readonly propagateTraceContext: boolean,
    backlog: DeliveryBacklog,
  ) {
    super();
    this.tracer = api.trace.getTracer(INSTRUMENTATION_SCOPE);
    this.meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE);
    const meter = this.meter;
    this.emitted = meter.createCounter(METRICS.eventsEmitted, { description: 'Events stored by emit and emitMany', unit: '{event}' });
    this.attempts = meter.createCounter(METRICS.deliveryAttempts, { description: 'Delivery attempts made, by outcome', unit: '{attempt}' });
    this.duration = meter.createHistogram(METRICS.deliveryDuration, {
      description: 'Time from sending a delivery to its answer (or failure), per attempt',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.lag = meter.createHistogram(METRICS.deliveryLag, {
      description: "Time from an event's emit to the start of each of its deliveries' first attempt",
      unit: 's',
      advice: { explicitBucketBoundaries: LAG_BUCKETS },
    });
    this.disabled = meter.createCounter(METRICS.endpointsDisabled, {
      description: 'Endpoints the module disabled, by reason',
      unit: '{endpoint}',
    });
    const pending = meter.createObservableGauge(METRICS.deliveriesPending, {
      description: 'Deliveries not yet finished, in the whole database',
      unit: '{delivery}',
    });
    const age = meter.createObservableGauge(METRICS.oldestPendingAge, {
      description: 'How long the longest-waiting due delivery has waited, in the whole database',
      unit: 's',
    });
    this.gauges = [pending, age];
    this.observeBacklog = async (result) => {
      const reading = await backlog.read(BACKLOG_READ_INTERVAL_MS).catch(() => null);
      if (!reading) return; // the database is away: no value rather than a wrong one
      result.observe(pending, reading.pending);
      result.observe(age, oldestPendingAgeMs(reading, Date.now()) / 1_000);
    };
    meter.addBatchObservableCallback(this.observeBacklog, this.gauges);
  }

  override traceEmit<T>(items: readonly unknown[], run: () => Promise<T>): Promise<T> {
    const { context, trace, SpanKind } = this.api;
    const attributes: Attributes = { 'webhooks.event.count': items.length };
    const type = singleEventType(items);
    if (type !== undefined) attributes['webhooks.event_type'] = type;
    const span = this.tracer.startSpan(EMIT_SPAN, { kind: SpanKind.PRODUCER, attributes });
    return context.with(trace.setSpan(context.active(), span), run).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        this.fail(span, (error as { code?: unknown })?.code ?? (error as Error)?.name, error);
        span.end();
        throw error;
      },
    );
  }

  override traceparent(): string | null {
    const span = this.api.trace.getActiveSpan();
    return span?.isRecording() ? formatTraceparent(span.spanContext()) : null;
  }

  override countEmitted(events: ReadonlyArray<{ id: string; type: string }>, storedIds: readonly string[]): void {
    for (let i = 0; i < events.length; i++) {
      if (storedIds[i] === events[i].id) this.emitted.add(1, { event_type: events[i].type });
    }
  }

  override startAttempt(url: string, delivery: LeasedDelivery, attempt: number, traceContext: string | null | undefined): AttemptTelemetry {
    const startedAt = Date.now();
    if (attempt === 1) {
      const emittedAt = idTime(delivery.eventId);
      if (emittedAt !== null) this.lag.record(Math.max(0, startedAt - emittedAt) / 1_000);
    }
    const attributes: Attributes = {
      'http.request.method': 'POST',
      'webhooks.delivery.id': delivery.id,
      'webhooks.event.id': delivery.eventId,
      'webhooks.event_type': delivery.eventType,
      'webhooks.endpoint.id': delivery.endpointId,
    };
    const target = this.target(url);
    if (target) {
      attributes['url.full'] = target.urlFull;
      attributes['server.address'] = target.serverAddress;
      attributes['server.port'] = target.serverPort;
    }
    if (attempt > 1) attributes['http.request.resend_count'] = attempt - 1;
    const emitted = parseTraceparent(traceContext);
    // A root of its own, linked to the emit: an attempt may run hours after the emit, in another process.
    const span = this.tracer.startSpan('POST', {
      kind: this.api.SpanKind.CLIENT,
      root: true,
      attributes,
      startTime: startedAt,
      links: emitted ? [{ context: { ...emitted, isRemote: true } }] : [],
    });
    return new TracedAttempt(this, span);
  }

  override endpointDisabled(reason: EndpointDisabledReason): void {
    this.disabled.add(1, { reason });
  }

  override onApplicationShutdown(): void {
    this.meter.removeBatchObservableCallback(this.observeBacklog, this.gauges);
  }

  fail(span: Span, errorType: unknown, error?: unknown): void {
    span.setAttribute('error.type', typeof errorType === 'string' && errorType.length > 0 ? errorType : '_OTHER');
    const message = error instanceof Error ? error.message : typeof error === 'string' ? error : undefined;
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message });
    if (error instanceof Error) span.recordException(error);
  }

  private target(url: string): HttpTarget | null {
    let target = this.targets.get(url);
    if (target === undefined) {
      if (this.targets.size >= MAX_CACHED_TARGETS) this.targets.clear();
      target = httpTarget(url);
      this.targets.set(url, target);
    }
    return target;
  }
}

class TracedAttempt implements AttemptTelemetry {
  constructor(
    private readonly telemetry: OpenTelemetryWebhooks,
    private readonly span: Span,
  ) {}

  headers(headers: Record<string, string>): Record<string, string> {
    if (!this.telemetry.propagateTraceContext) return headers;
    const traceparent = formatTraceparent(this.span.spanContext());
    if (traceparent) headers.traceparent = traceparent;
    return headers;
  }

  end(outcome: AttemptOutcome, succeeded: boolean): void {
    const { span, telemetry } = this;
    if (outcome.interrupted) {
      telemetry.fail(span, 'interrupted');
      span.end();
      return;
    }
    if (outcome.statusCode !== null) span.setAttribute('http.response.status_code', outcome.statusCode);
    if (!succeeded) telemetry.fail(span, attemptErrorType(outcome.statusCode, outcome.error), outcome.error ?? undefined);
    span.end();
    const attributes: Attributes =
      outcome.statusCode === null
        ? { outcome: succeeded ? 'succeeded' : 'failed' }
        : { outcome: succeeded ? 'succeeded' : 'failed', 'http.response.status_code': outcome.statusCode };
    telemetry.attempts.add(1, attributes);
    telemetry.duration.record(outcome.durationMs / 1_000, attributes);
  }
}

/** The event type when every item of an emit has the same one. */
function singleEventType(items: readonly unknown[]): string | undefined {
  const type = (items[0] as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return undefined;
  for (const item of items) if ((item as { type?: unknown } | null)?.type !== type) return undefined;
  return type;
}
