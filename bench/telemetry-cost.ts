import 'reflect-metadata';
import * as api from '@opentelemetry/api';
import { join } from 'node:path';
import { installTelemetrySdk } from './support/telemetry-sdk.js';

/**
 * The CPU the module's instrumentation adds per delivery, measured in a process of its own with
 * nothing else running: the emit side (span, trace context, counter) of 100-event `emitMany` calls
 * fanned out to 10 endpoints, and each attempt's span, counter and histograms. `full` records through
 * the whole SDK; `none` runs the same calls against the API's no-ops. Prints µs per delivery.
 */
interface AttemptTelemetry {
  headers(headers: Record<string, string>): Record<string, string>;
  end(outcome: { statusCode: number | null; durationMs: number; error: string | null }, succeeded: boolean): void;
}
interface Instrumentation {
  traceEmit<T>(items: readonly unknown[], run: () => Promise<T>): Promise<T>;
  traceparent(): string | null;
  countEmitted(events: ReadonlyArray<{ id: string; type: string }>, storedIds: readonly string[]): void;
  startAttempt(url: string, delivery: object, attempt: number, traceContext: string | null): AttemptTelemetry;
}

const EVENTS_PER_EMIT = 100;
const ENDPOINTS = 10;

async function main(): Promise<void> {
  const setup = process.argv[2] === 'full' ? 'full' : 'none';
  if (setup === 'full') installTelemetrySdk('full');
  // Internal to the package: the bench measures the class itself, as built.
  const { OpenTelemetryWebhooks } = await import(join(__dirname, '..', '..', 'dist', 'cjs', 'telemetry', 'open-telemetry-webhooks.js'));
  const telemetry: Instrumentation = new OpenTelemetryWebhooks(api, false, { read: async () => null });
  const events = Array.from({ length: EVENTS_PER_EMIT }, (_, i) => ({
    id: `evt_01KB00000000000000000${String(i).padStart(5, '0')}`,
    type: 'bench.event',
  }));
  const ids = events.map((e) => e.id);
  const deliveryOf = (event: { id: string }, endpoint: number) => ({
    id: `dlv_${event.id.slice(4)}${endpoint}`,
    eventId: event.id,
    eventType: 'bench.event',
    endpointId: `wh_${endpoint}`,
  });
  const oneEmit = async () => {
    const traceContext = await telemetry.traceEmit(events, async () => {
      const parent = telemetry.traceparent();
      telemetry.countEmitted(events, ids);
      return parent;
    });
    for (const event of events) {
      for (let endpoint = 0; endpoint < ENDPOINTS; endpoint++) {
        const attempt = telemetry.startAttempt(`http://127.0.0.1:4000/ok/p10/${endpoint}`, deliveryOf(event, endpoint), 1, traceContext);
        attempt.headers({});
        attempt.end({ statusCode: 200, durationMs: 3, error: null }, true);
      }
    }
  };
  for (let i = 0; i < 50; i++) await oneEmit();
  const rounds = 300;
  const started = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await oneEmit();
  const used = process.cpuUsage(started);
  process.stdout.write(
    JSON.stringify({ setup, microsPerDelivery: (used.user + used.system) / (rounds * EVENTS_PER_EMIT * ENDPOINTS) }) + '\n',
  );
  process.exit(0);
}

void main();
