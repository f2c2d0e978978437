import { Injectable, Logger } from '@nestjs/common';
import { LogThrottle } from '../utils/log-throttle.js';
import { newId } from '../utils/id.js';
import { RetryPolicy } from '../config/retry-policy.js';
import { WebhookSigner } from '../security/signatures/webhook-signer.js';
import { deliveryHeaders } from './delivery-headers.js';
import { judgeAttempt } from './attempt-verdict.js';
import { DeliveryRecorder, type DeliveryRecord } from './delivery-recorder.js';
import type { FailedProbe } from './endpoint-gate.js';
import type { ClaimedDelivery, DeliveryChange, LeasedDelivery } from '../store/delivery-store.js';
import { UNSENT_ATTEMPT_PREFIX } from '../store/entities/webhook-delivery-attempt.entity.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhooksTelemetry } from '../telemetry/webhooks-telemetry.js';

/** How an attempt went, as far as the endpoint's health is concerned; `none` when nothing was sent. */
export interface EndpointResponse {
  response: 'ok' | 'failed' | 'none';
  /** Why it failed, as recorded on the delivery. */
  error: string | null;
}

const NOT_SENT: EndpointResponse = { response: 'none', error: null };

const MAX_ERROR_LENGTH = 1024;

/**
 * Runs one attempt of one leased delivery: sign, send, judge, and hand the outcome to the recorder.
 * It returns once the outcome is handed in, not once it is committed: the lease keeps the delivery
 * safe until then, and a worker that dies in between sends it again (at least once). Waiting for a
 * backlogged recorder is the caller's business (`DeliveryRecorder.ready`), so that the time an
 * endpoint is charged with is the time it took to answer.
 */
@Injectable()
export class DeliveryAttempt {
  private readonly policyLogger = new Logger('WebhookNetworkPolicy');
  /** One line per endpoint per minute: a refused endpoint is refused on every attempt. */
  private readonly refusalLog = new LogThrottle();

  constructor(
    private readonly policy: RetryPolicy,
    private readonly sender: WebhookSender,
    private readonly signer: WebhookSigner,
    private readonly recorder: DeliveryRecorder,
    private readonly telemetry: WebhooksTelemetry,
  ) {}

  /** `interrupt` (shutdown) abandons the attempt unrecorded: the lease expires and it is sent again. */
  async process({ delivery, body, endpoint, traceContext }: ClaimedDelivery, interrupt?: AbortSignal): Promise<EndpointResponse> {
    const now = Date.now();
    if (!endpoint || body === undefined) {
      this.handIn({ delivery, ownerId: endpoint?.ownerId ?? null, change: settled(delivery, 'cancelled', 'endpoint deleted', now) });
      return NOT_SENT;
    }
    if (!endpoint.enabled) {
      this.handIn({ delivery, ownerId: endpoint.ownerId, change: settled(delivery, 'skipped', 'endpoint disabled', now) });
      return NOT_SENT;
    }

    const attempt = delivery.attemptCount + 1;
    const traced = this.telemetry.startAttempt(endpoint.url, delivery, attempt, traceContext);
    const headers = deliveryHeaders(
      delivery,
      attempt,
      this.signer.headers({ id: delivery.eventId, timestamp: Math.floor(now / 1_000), body }, endpoint, now),
    );
    const outcome = await this.sender.send(endpoint.url, traced.headers(headers), body, interrupt);
    if (outcome.interrupted) {
      traced.end(outcome, false);
      return NOT_SENT;
    }
    if (outcome.refusedHostDetail && this.refusalLog.allow(endpoint.id)) {
      const who = `endpoint ${endpoint.id} (owner ${endpoint.ownerId})`;
      this.policyLogger.warn(`${who} refused by the network policy: ${outcome.refusedHostDetail}`);
    }
    const verdict = judgeAttempt(outcome, attempt, this.policy);
    traced.end(outcome, verdict.status === 'succeeded');
    const finishedAt = Date.now();
    const error = truncate(verdict.status === 'failed' && outcome.error ? `${outcome.error}; ${verdict.reason}` : outcome.error);
    const pending = verdict.status === 'pending';
    this.handIn({
      delivery,
      ownerId: endpoint.ownerId,
      change: {
        status: verdict.status,
        attemptCount: attempt,
        nextAttemptAt: pending ? finishedAt + verdict.retryInMs : null,
        lastStatusCode: outcome.statusCode,
        lastError: error,
        completedAt: pending ? null : finishedAt,
      },
      attempt: {
        id: newId('att', now),
        attempt,
        startedAt: now,
        durationMs: outcome.durationMs,
        statusCode: outcome.statusCode,
        error,
        responseBody: outcome.responseBody,
      },
      observation: { endpoint, at: now, ok: verdict.status === 'succeeded', gone: verdict.status === 'failed' && verdict.disableEndpoint },
      retryInMs: pending ? verdict.retryInMs : undefined,
    });
    return verdict.status === 'succeeded' ? { response: 'ok', error: null } : { response: 'failed', error };
  }

  /** Hands a delivery back untried, due at `until`: its endpoint is busy or backing off, or the worker stops. */
  defer({ delivery, endpoint }: ClaimedDelivery, until: number): void {
    const change = { ...settled(delivery, 'pending', delivery.lastError, null), nextAttemptAt: until };
    this.handIn({ delivery, ownerId: endpoint?.ownerId ?? null, change, retryInMs: until - Date.now() });
  }

  /**
   * Counts a probe's failure as this delivery's attempt without sending it: the delivery was due
   * before the probe failed, so sending it too would only have failed the same way. The retry
   * schedule then moves on as after any failed attempt, so a dead endpoint's deliveries still end.
   */
  recordUnsent({ delivery, endpoint }: ClaimedDelivery, probe: FailedProbe): void {
    const now = Date.now();
    const attempt = delivery.attemptCount + 1;
    const reason = `${UNSENT_ATTEMPT_PREFIX}the endpoint's probe at ${new Date(probe.at).toISOString()} failed (${probe.error})`;
    const verdict = judgeAttempt(
      { statusCode: null, durationMs: 0, error: reason, responseBody: null, retryAfterMs: null },
      attempt,
      this.policy,
    );
    const pending = verdict.status === 'pending';
    const error = truncate(verdict.status === 'failed' ? `${reason}; ${verdict.reason}` : reason);
    this.handIn({
      delivery,
      ownerId: endpoint?.ownerId ?? null,
      change: {
        status: verdict.status,
        attemptCount: attempt,
        nextAttemptAt: pending ? now + verdict.retryInMs : null,
        lastStatusCode: null,
        lastError: error,
        completedAt: pending ? null : now,
      },
      attempt: { id: newId('att', now), attempt, startedAt: now, durationMs: 0, statusCode: null, error, responseBody: null },
      retryInMs: pending ? verdict.retryInMs : undefined,
    });
  }

  private handIn(record: DeliveryRecord): void {
    this.recorder.record(record).catch(() => undefined); // the recorder logs; the lease covers the rest
  }
}

/** A change without an attempt: the endpoint was deleted or disabled, or the delivery is put off. */
function settled(delivery: LeasedDelivery, status: DeliveryChange['status'], reason: string | null, now: number | null): DeliveryChange {
  return {
    status,
    attemptCount: delivery.attemptCount,
    nextAttemptAt: null,
    lastStatusCode: delivery.lastStatusCode,
    lastError: reason,
    completedAt: now,
  };
}

function truncate(value: string | null): string | null {
  return value !== null && value.length > MAX_ERROR_LENGTH ? `${value.slice(0, MAX_ERROR_LENGTH - 1)}…` : value;
}
