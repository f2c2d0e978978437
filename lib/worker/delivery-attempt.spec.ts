import { RetryPolicy } from '../config/retry-policy.js';
import type { WebhookSigner } from '../security/signatures/webhook-signer.js';
import type { ClaimedDelivery, LeasedDelivery } from '../store/delivery-store.js';
import { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import { DeliveryAttempt } from './delivery-attempt.js';
import type { DeliveryRecord, DeliveryRecorder } from './delivery-recorder.js';
import { WebhooksTelemetry } from '../telemetry/webhooks-telemetry.js';
import type { SendOutcome, WebhookSender } from './webhook-sender.js';

const SCHEDULE = [100, 200];
const MAX_RETRY_AFTER_MS = 3_000;

/** Jitter pinned to its middle, so every delay is exactly the scheduled one. */
const policy = new RetryPolicy(
  {
    retry: { schedule: SCHEDULE, maxRetryAfterMs: MAX_RETRY_AFTER_MS },
    delivery: { circuitBreaker: { failuresToOpen: 3, baseBackoffMs: 100, maxBackoffMs: 800 } },
  },
  () => 0.5,
);

function endpoint(overrides: Partial<WebhookEndpointEntity> = {}): WebhookEndpointEntity {
  return Object.assign(new WebhookEndpointEntity(), {
    id: 'ep_1',
    ownerId: 'owner-1',
    url: 'https://hooks.example.com/in',
    enabled: true,
    secret: 'whsec_x',
    retiredSecrets: null,
    failingSince: null,
    failureCount: 0,
    ...overrides,
  });
}

function delivery(overrides: Partial<LeasedDelivery> = {}): LeasedDelivery {
  return {
    id: 'dlv_1',
    eventId: 'evt_1',
    eventType: 'user.created',
    endpointId: 'ep_1',
    attemptCount: 0,
    nextAttemptAt: 0,
    lastStatusCode: null,
    lastError: null,
    leaseToken: 'lease-1',
    leaseUntil: Date.now() + 60_000,
    ...overrides,
  };
}

function outcome(overrides: Partial<SendOutcome> = {}): SendOutcome {
  return { statusCode: 200, durationMs: 12, error: null, responseBody: null, retryAfterMs: null, ...overrides };
}

function setup(answer: SendOutcome | ((attempt: string) => SendOutcome) = outcome(), recordFails = false) {
  const records: DeliveryRecord[] = [];
  const sent: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  const sender = {
    send: jest.fn(async (url: string, headers: Record<string, string>, body: string) => {
      sent.push({ url, headers, body });
      return typeof answer === 'function' ? answer(headers['x-webhook-attempt']) : answer;
    }),
  } as unknown as WebhookSender;
  const signer = { headers: () => ({ 'webhook-signature': 'v1,sig' }) } as unknown as WebhookSigner;
  const recorder = {
    record: async (record: DeliveryRecord) => {
      records.push(record);
      if (recordFails) throw new Error('database away');
    },
  } as unknown as DeliveryRecorder;
  return { attempt: new DeliveryAttempt(policy, sender, signer, recorder, new WebhooksTelemetry()), records, sent };
}

const claimed = (overrides: Partial<ClaimedDelivery> = {}): ClaimedDelivery => ({
  delivery: delivery(),
  body: '{"id":"evt_1"}',
  endpoint: endpoint(),
  ...overrides,
});

describe('DeliveryAttempt', () => {
  it('records a 2xx as succeeded, counting the attempt and reporting the endpoint healthy', async () => {
    const { attempt, records, sent } = setup(outcome({ statusCode: 204, durationMs: 7 }));
    const before = Date.now();
    expect(await attempt.process(claimed())).toEqual({ response: 'ok', error: null });

    expect(sent).toEqual([
      {
        url: 'https://hooks.example.com/in',
        headers: expect.objectContaining({ 'x-webhook-attempt': '1', 'webhook-signature': 'v1,sig' }),
        body: '{"id":"evt_1"}',
      },
    ]);
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record.ownerId).toBe('owner-1');
    expect(record.change).toMatchObject({
      status: 'succeeded',
      attemptCount: 1,
      nextAttemptAt: null,
      lastStatusCode: 204,
      lastError: null,
    });
    expect(record.change.completedAt).toBeGreaterThanOrEqual(before);
    expect(record.attempt).toMatchObject({ attempt: 1, statusCode: 204, durationMs: 7, error: null });
    expect(record.attempt!.id).toMatch(/^att_/);
    expect(record.observation).toMatchObject({ ok: true, gone: false });
    expect(record.retryInMs).toBeUndefined();
  });

  it('keeps a retryable failure pending, due after the schedule’s delay, and asks for the retry to be queued', async () => {
    const { attempt, records } = setup(outcome({ statusCode: 500, error: 'HTTP 500', responseBody: 'oops' }));
    expect(await attempt.process(claimed())).toEqual({ response: 'failed', error: 'HTTP 500' });

    const [record] = records;
    expect(record.change).toMatchObject({
      status: 'pending',
      attemptCount: 1,
      lastStatusCode: 500,
      lastError: 'HTTP 500',
      completedAt: null,
    });
    expect(record.retryInMs).toBe(SCHEDULE[0]);
    expect(record.change.nextAttemptAt! - record.retryInMs!).toBeGreaterThanOrEqual(record.attempt!.startedAt);
    expect(record.attempt).toMatchObject({ attempt: 1, statusCode: 500, responseBody: 'oops' });
    expect(record.observation).toMatchObject({ ok: false, gone: false });
  });

  it('counts attempts from the delivery’s own count and moves along the schedule', async () => {
    const { attempt, records, sent } = setup(outcome({ statusCode: 503, error: 'HTTP 503' }));
    await attempt.process(claimed({ delivery: delivery({ attemptCount: 1 }) }));
    expect(sent[0].headers['x-webhook-attempt']).toBe('2');
    expect(records[0].change).toMatchObject({ status: 'pending', attemptCount: 2 });
    expect(records[0].retryInMs).toBe(SCHEDULE[1]);
  });

  it('waits as long as a 429’s Retry-After asks, within the configured bound', async () => {
    const { attempt, records } = setup(outcome({ statusCode: 429, error: 'HTTP 429', retryAfterMs: 2_000 }));
    await attempt.process(claimed());
    expect(records[0].retryInMs).toBe(2_000);

    const greedy = setup(outcome({ statusCode: 429, error: 'HTTP 429', retryAfterMs: 3_600_000 }));
    await greedy.attempt.process(claimed());
    expect(greedy.records[0].retryInMs).toBe(MAX_RETRY_AFTER_MS);
  });

  it('fails the delivery once the schedule is exhausted, saying why, without a retry', async () => {
    const { attempt, records } = setup(outcome({ statusCode: 500, error: 'HTTP 500' }));
    const result = await attempt.process(claimed({ delivery: delivery({ attemptCount: SCHEDULE.length }) }));
    expect(result).toEqual({ response: 'failed', error: 'HTTP 500; retry schedule exhausted' });
    const [record] = records;
    expect(record.change).toMatchObject({
      status: 'failed',
      attemptCount: SCHEDULE.length + 1,
      nextAttemptAt: null,
      lastError: 'HTTP 500; retry schedule exhausted',
    });
    expect(record.change.completedAt).toEqual(expect.any(Number));
    expect(record.retryInMs).toBeUndefined();
    expect(record.observation).toMatchObject({ ok: false, gone: false });
  });

  it('fails at once on 410 Gone and tells health the endpoint is gone', async () => {
    const { attempt, records } = setup(outcome({ statusCode: 410, error: 'HTTP 410' }));
    await attempt.process(claimed());
    expect(records[0].change).toMatchObject({ status: 'failed', attemptCount: 1, lastError: 'HTTP 410; endpoint answered 410 Gone' });
    expect(records[0].retryInMs).toBeUndefined();
    expect(records[0].observation).toMatchObject({ ok: false, gone: true });
  });

  it('cancels, without sending, a delivery whose endpoint was deleted', async () => {
    for (const gone of [claimed({ endpoint: undefined }), claimed({ body: undefined })]) {
      const { attempt, records, sent } = setup();
      expect(await attempt.process({ ...gone, delivery: delivery({ attemptCount: 1, lastStatusCode: 500 }) })).toEqual({
        response: 'none',
        error: null,
      });
      expect(sent).toEqual([]);
      expect(records).toHaveLength(1);
      expect(records[0].change).toMatchObject({
        status: 'cancelled',
        lastError: 'endpoint deleted',
        attemptCount: 1,
        lastStatusCode: 500,
        nextAttemptAt: null,
      });
      expect(records[0].change.completedAt).toEqual(expect.any(Number));
      expect(records[0].attempt).toBeUndefined();
      expect(records[0].retryInMs).toBeUndefined();
      expect(records[0].ownerId).toBe(gone.endpoint ? 'owner-1' : null);
    }
  });

  it('skips, without sending, a delivery whose endpoint is disabled', async () => {
    const { attempt, records, sent } = setup();
    expect(await attempt.process(claimed({ endpoint: endpoint({ enabled: false }) }))).toEqual({ response: 'none', error: null });
    expect(sent).toEqual([]);
    expect(records[0].change).toMatchObject({ status: 'skipped', lastError: 'endpoint disabled', attemptCount: 0 });
    expect(records[0].change.completedAt).toEqual(expect.any(Number));
    expect(records[0].attempt).toBeUndefined();
    expect(records[0].ownerId).toBe('owner-1');
  });

  it('records nothing for an attempt interrupted by shutdown, so the lease brings it back', async () => {
    const { attempt, records } = setup(outcome({ statusCode: null, error: 'interrupted by shutdown', interrupted: true }));
    expect(await attempt.process(claimed())).toEqual({ response: 'none', error: null });
    expect(records).toEqual([]);
  });

  it('cuts a long error to a bounded length', async () => {
    const { attempt, records } = setup(outcome({ statusCode: null, error: 'x'.repeat(5_000) }));
    await attempt.process(claimed());
    expect(records[0].change.lastError).toHaveLength(1_024);
    expect(records[0].change.lastError!.endsWith('…')).toBe(true);
    expect(records[0].attempt!.error).toBe(records[0].change.lastError);
  });

  it('does not fail the attempt when the recorder cannot write: the lease covers it', async () => {
    const { attempt, records } = setup(outcome(), true);
    await expect(attempt.process(claimed())).resolves.toEqual({ response: 'ok', error: null });
    expect(records).toHaveLength(1);
  });

  it('hands a deferred delivery back pending, untried, due when asked', async () => {
    const { attempt, records, sent } = setup();
    const until = Date.now() + 5_000;
    attempt.defer(claimed({ delivery: delivery({ attemptCount: 1, lastError: 'HTTP 500' }) }), until);
    expect(sent).toEqual([]);
    expect(records[0].change).toEqual({
      status: 'pending',
      attemptCount: 1,
      nextAttemptAt: until,
      lastStatusCode: null,
      lastError: 'HTTP 500',
      completedAt: null,
    });
    expect(records[0].attempt).toBeUndefined();
    expect(records[0].retryInMs).toBeGreaterThan(4_000);
    expect(records[0].retryInMs).toBeLessThanOrEqual(5_000);
  });

  it('counts a failed probe as an unsent attempt that moves the schedule on, and ends the delivery when it is exhausted', async () => {
    const probe = { at: Date.UTC(2030, 0, 1), error: 'HTTP 502' };
    const { attempt, records, sent } = setup();
    attempt.recordUnsent(claimed(), probe);
    attempt.recordUnsent(claimed({ delivery: delivery({ attemptCount: SCHEDULE.length }) }), probe);
    expect(sent).toEqual([]);

    const reason = "not sent: the endpoint's probe at 2030-01-01T00:00:00.000Z failed (HTTP 502)";
    expect(records[0].change).toMatchObject({
      status: 'pending',
      attemptCount: 1,
      lastError: reason,
      lastStatusCode: null,
      completedAt: null,
    });
    expect(records[0].retryInMs).toBe(SCHEDULE[0]);
    expect(records[0].attempt).toMatchObject({ attempt: 1, durationMs: 0, statusCode: null, error: reason });
    expect(records[0].observation).toBeUndefined();

    expect(records[1].change).toMatchObject({
      status: 'failed',
      attemptCount: SCHEDULE.length + 1,
      lastError: `${reason}; retry schedule exhausted`,
      nextAttemptAt: null,
    });
    expect(records[1].retryInMs).toBeUndefined();
  });
});
