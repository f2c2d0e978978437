import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';
import { WebhookDeliveryEntity, WebhookEventEntity, type WebhooksModuleRootOptions } from '../lib/index.js';
import { freePort } from './faults/support/free-port.js';
import { parseExposition, scrape, sumOf, type PrometheusSample } from './support/prometheus-scrape.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/**
 * The module's OpenTelemetry metrics and spans, through a real SDK: a MeterProvider read by a
 * PrometheusExporter serving /metrics on a free port (scraped over HTTP, as Prometheus would), and a
 * BasicTracerProvider exporting to memory, with async-hooks context propagation.
 */
describe('OpenTelemetry', () => {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const contextManager = new AsyncLocalStorageContextManager();
  let receiver: TestReceiver;
  let meterProvider: MeterProvider;
  let metricsUrl: string;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(tracerProvider);
  });

  // A fresh MeterProvider per test, registered before its app boots (the module takes its meter at boot).
  beforeEach(async () => {
    const port = await freePort();
    let exporter!: PrometheusExporter;
    await new Promise<void>((resolve, reject) => {
      exporter = new PrometheusExporter({ host: '127.0.0.1', port }, (error) => (error ? reject(error) : resolve()));
    });
    meterProvider = new MeterProvider({ readers: [exporter] });
    metrics.setGlobalMeterProvider(meterProvider);
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    spans.reset();
  });

  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
    await meterProvider.shutdown();
    metrics.disable();
  });

  afterAll(async () => {
    await receiver.close();
    await tracerProvider.shutdown();
    trace.disable();
    context.disable();
  });

  async function start(webhooks: Partial<WebhooksModuleRootOptions> = {}, more: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
    const app = await startTestApp({ ...more, webhooks });
    apps.push(app);
    return app;
  }

  async function register(app: TestApp, owner: string, url: string): Promise<string> {
    const { body } = await app
      .api(owner)
      .post('/v1/webhooks')
      .send({ url, events: ['*'] })
      .expect(201);
    return body.id;
  }

  async function samples(): Promise<PrometheusSample[]> {
    return parseExposition(await scrape(metricsUrl));
  }

  async function allFinished(app: TestApp, count: number): Promise<boolean> {
    const rows = await app.dataSource.getRepository(WebhookDeliveryEntity).find();
    return rows.length === count && rows.every((row) => row.status !== 'pending');
  }

  function attemptSpans(): ReadableSpan[] {
    return spans.getFinishedSpans().filter((span) => span.name === 'POST');
  }

  function emitSpans(): ReadableSpan[] {
    return spans.getFinishedSpans().filter((span) => span.name === 'webhooks.emit');
  }

  it('counts emitted events and attempts, times them, and reports the backlog, as a Prometheus scrape shows', async () => {
    const app = await start();
    const owner = uniqueOwner();
    const path = `/ok-${randomBytes(4).toString('hex')}`;
    await register(app, owner, receiver.url(path));

    for (let n = 0; n < 3; n++) await app.publisher.emit('user.created', { n }, { ownerId: owner });
    await app.publisher.emitMany([
      { type: 'order.paid', data: { n: 3 }, ownerId: owner },
      { type: 'order.paid', data: { n: 4 }, ownerId: owner, idempotencyKey: 'once' },
    ]);
    // The same key again is the same event: not emitted twice, not delivered twice.
    await app.publisher.emit('order.paid', { n: 5 }, { ownerId: owner, idempotencyKey: 'once' });
    await waitFor('5 deliveries', () => receiver.at(path).length === 5);
    await waitFor('every delivery finished', () => allFinished(app, 5));

    const scraped = await samples();
    expect(sumOf(scraped, 'webhooks_events_emitted_total')).toBe(5);
    expect(sumOf(scraped, 'webhooks_events_emitted_total', { event_type: 'user.created' })).toBe(3);
    expect(sumOf(scraped, 'webhooks_events_emitted_total', { event_type: 'order.paid' })).toBe(2);
    expect(sumOf(scraped, 'webhooks_delivery_attempts_total')).toBe(5);
    expect(sumOf(scraped, 'webhooks_delivery_attempts_total', { outcome: 'succeeded', http_response_status_code: '200' })).toBe(5);
    expect(sumOf(scraped, 'webhooks_delivery_duration_count', { outcome: 'succeeded' })).toBe(5);
    expect(sumOf(scraped, 'webhooks_delivery_duration_bucket', { le: '+Inf' })).toBe(5);
    expect(sumOf(scraped, 'webhooks_delivery_lag_count')).toBe(5);
    expect(sumOf(scraped, 'webhooks_delivery_lag_sum')).toBeGreaterThan(0);
    expect(sumOf(scraped, 'webhooks_deliveries_pending')).toBe(0);
    expect(sumOf(scraped, 'webhooks_deliveries_oldest_pending_age')).toBe(0);
    expect(sumOf(scraped, 'webhooks_endpoints_disabled_total')).toBeUndefined();
  });

  it('reports pending deliveries and how long the oldest has waited, from the database every instance shares', async () => {
    // An API-only instance: what it emits waits for a worker, so the backlog stays.
    const app = await start({ processor: false });
    const owner = uniqueOwner();
    await register(app, owner, receiver.url('/never'));
    await app.publisher.emitMany([1, 2, 3].map((n) => ({ type: 'order.paid', data: { n }, ownerId: owner })));
    // One of them has been due for an hour, as in a backlog nobody works off.
    const deliveries = app.dataSource.getRepository(WebhookDeliveryEntity);
    const [oldest] = await deliveries.find({ order: { id: 'ASC' }, take: 1 });
    await deliveries.update({ id: oldest.id }, { nextAttemptAt: Date.now() - 3_600_000 });

    const scraped = await samples();
    expect(sumOf(scraped, 'webhooks_deliveries_oldest_pending_age')).toBeGreaterThanOrEqual(3_600);
    expect(sumOf(scraped, 'webhooks_deliveries_oldest_pending_age')).toBeLessThan(3_600 + 600);
    expect(sumOf(scraped, 'webhooks_deliveries_pending')).toBe(3);
    expect(sumOf(scraped, 'webhooks_events_emitted_total', { event_type: 'order.paid' })).toBe(3);
    expect(sumOf(scraped, 'webhooks_delivery_attempts_total')).toBeUndefined();
  });

  it('counts failed attempts with their status code (or none), and endpoints the module disables, by reason', async () => {
    const app = await start({ retry: { schedule: [] }, disable: { afterFailingForMs: 0, minFailures: 1 } });
    const owner = uniqueOwner();
    const tag = randomBytes(4).toString('hex');
    receiver.on(`/fail-${tag}`, { status: 500 }).on(`/gone-${tag}`, { status: 410 });
    const failing = await register(app, owner, receiver.url(`/fail-${tag}`));
    const gone = await register(app, owner, receiver.url(`/gone-${tag}`));
    const refused = await register(app, owner, `http://127.0.0.1:${await freePort()}/nobody`);

    await app.publisher.emit('user.deleted', { n: 1 }, { ownerId: owner });
    await waitFor('every delivery finished', () => allFinished(app, 3));
    for (const id of [failing, gone, refused]) {
      await waitFor(
        `endpoint ${id} disabled`,
        async () => (await app.api(owner).get(`/v1/webhooks/${id}`).expect(200)).body.enabled === false,
      );
    }

    const scraped = await samples();
    expect(sumOf(scraped, 'webhooks_delivery_attempts_total', { outcome: 'failed', http_response_status_code: '500' })).toBe(1);
    expect(sumOf(scraped, 'webhooks_delivery_attempts_total', { outcome: 'failed', http_response_status_code: '410' })).toBe(1);
    expect(sumOf(scraped, 'webhooks_delivery_attempts_total', { outcome: 'failed', http_response_status_code: undefined })).toBe(1);
    expect(sumOf(scraped, 'webhooks_delivery_attempts_total', { outcome: 'succeeded' })).toBeUndefined();
    expect(sumOf(scraped, 'webhooks_endpoints_disabled_total', { reason: 'gone' })).toBe(1);
    expect(sumOf(scraped, 'webhooks_endpoints_disabled_total', { reason: 'failing' })).toBe(2);

    const failed = attemptSpans().find((span) => span.attributes['http.response.status_code'] === 500);
    expect(failed?.attributes['error.type']).toBe('500');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    const unanswered = attemptSpans().find((span) => span.attributes['http.response.status_code'] === undefined);
    expect(unanswered?.attributes['error.type']).toBe('ECONNREFUSED');
  });

  it('links each attempt span, in the worker, to the emit span of another process, through the stored trace context', async () => {
    // Two apps on one database: the emitting one has no worker, so the link can only come from the database.
    const database = await createTestDatabase({ file: true });
    const queueName = `wh-test-${randomBytes(5).toString('hex')}`;
    const api = await start({ processor: false, queueName }, { database });
    const owner = uniqueOwner();
    const path = `/traced-${randomBytes(4).toString('hex')}`;
    await register(api, owner, `${receiver.url(path)}?token=s3cret-token`);
    await start({ controllers: false, queueName }, { database, dropDatabase: false });

    const [event] = await api.publisher.emitMany([{ type: 'user.created', data: { traced: true }, ownerId: owner }]);
    await waitFor('the delivery', () => receiver.requests.some((request) => request.path.startsWith(path)));
    const attempt = await waitFor('the attempt span', () => attemptSpans()[0]);

    const [emit] = emitSpans();
    expect(emit.kind).toBe(SpanKind.PRODUCER);
    expect(emit.attributes).toMatchObject({ 'webhooks.event.count': 1, 'webhooks.event_type': 'user.created' });
    const stored = await api.dataSource.getRepository(WebhookEventEntity).findOneByOrFail({ id: event.id });
    expect(stored.traceContext).toBe(`00-${emit.spanContext().traceId}-${emit.spanContext().spanId}-01`);

    const port = receiver.port;
    expect(attempt.kind).toBe(SpanKind.CLIENT);
    expect(attempt.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.full': `http://127.0.0.1:${port}${path}?token=REDACTED`,
      'server.address': '127.0.0.1',
      'server.port': port,
      'http.response.status_code': 200,
      'webhooks.event.id': event.id,
    });
    expect(attempt.attributes['error.type']).toBeUndefined();
    expect(attempt.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(attempt.links).toHaveLength(1);
    expect(attempt.links[0].context).toMatchObject({ traceId: emit.spanContext().traceId, spanId: emit.spanContext().spanId });
    expect(attempt.parentSpanContext).toBeUndefined();
    // Not sent by default.
    expect(receiver.requests.find((request) => request.path.startsWith(path))?.headers.traceparent).toBeUndefined();
  });

  it("with delivery.propagateTraceContext, sends the receiver the attempt span's traceparent", async () => {
    const app = await start({ delivery: { timeoutMs: 2_000, propagateTraceContext: true } });
    const owner = uniqueOwner();
    const path = `/propagated-${randomBytes(4).toString('hex')}`;
    await register(app, owner, receiver.url(path));
    await app.publisher.emit('user.updated', { n: 1 }, { ownerId: owner });
    const attempt = await waitFor('the attempt span', () => attemptSpans()[0]);

    const header = receiver.at(path)[0]?.headers.traceparent;
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(header));
    expect(match).not.toBeNull();
    expect(match![1]).toBe(attempt.spanContext().traceId);
    expect(match![2]).toBe(attempt.spanContext().spanId);
    expect(match![1]).not.toBe(emitSpans()[0].spanContext().traceId);
  });
});
