import type { LeasedDelivery } from '../store/delivery-store.js';

/** What the sender reported of one attempt, as far as telemetry goes. */
export interface AttemptOutcome {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  /** Cut short by shutdown: no outcome is recorded, so none is counted. */
  interrupted?: boolean;
}

/** One attempt's span and measurements, from just before the request to its outcome. */
export interface AttemptTelemetry {
  /** The request headers, with `traceparent` added when `delivery.propagateTraceContext` is on and a span is being traced. */
  headers(headers: Record<string, string>): Record<string, string>;
  end(outcome: AttemptOutcome, succeeded: boolean): void;
}

/** Why the module disabled an endpoint on its own: it answered 410 Gone, or it kept failing. */
export type EndpointDisabledReason = 'gone' | 'failing';

const UNTRACED_ATTEMPT: AttemptTelemetry = {
  headers: (headers) => headers,
  end: () => undefined,
};

/**
 * The module's metrics and spans. This base class records nothing, at no cost: it is what runs when
 * `@opentelemetry/api` is not installed. With the API installed, `OpenTelemetryWebhooks` records
 * through it (and the API's own no-ops apply until the host registers an SDK).
 */
export class WebhooksTelemetry {
  /** Runs `emit` inside its span. */
  traceEmit<T>(_items: readonly unknown[], run: () => Promise<T>): Promise<T> {
    return run();
  }

  /** The `traceparent` to store with the events being emitted: that of the current span, if it is recording. */
  traceparent(): string | null {
    return null;
  }

  /** Counts the events stored: those whose id came back (a repeated idempotency key returns the first event's). */
  countEmitted(_events: ReadonlyArray<{ id: string; type: string }>, _storedIds: readonly string[]): void {}

  startAttempt(_url: string, _delivery: LeasedDelivery, _attempt: number, _traceContext: string | null | undefined): AttemptTelemetry {
    return UNTRACED_ATTEMPT;
  }

  endpointDisabled(_reason: EndpointDisabledReason): void {}

  /** Stops reporting this app's gauges. */
  onApplicationShutdown(): void {}
}
