import { Inject, Injectable, Logger } from '@nestjs/common';
import type { WebhookDeliveryEntity } from '../entities/webhook-delivery.entity.js';
import type { WebhookEndpointEntity } from '../entities/webhook-endpoint.entity.js';
import { OperationalHooks } from '../hooks/operational-hooks.js';
import { newId } from '../id.js';
import type { ResolvedWebhooksOptions } from '../options/resolved-options.js';
import { EndpointSecrets } from '../signing/endpoint-secrets.js';
import { hexSignature, standardSignatureHeader } from '../signing/signature.js';
import { USER_AGENT, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { judgeAttempt, type AttemptVerdict } from './attempt-verdict.js';
import { DeliveryQueue } from './delivery-queue.js';
import { DeliveryStore, type ClaimedDelivery } from './delivery-store.js';
import { WebhookSender, type SendOutcome } from './webhook-sender.js';

/** How an attempt went, as far as the endpoint's health is concerned; `none` when nothing was sent. */
export type EndpointResponse = 'ok' | 'failed' | 'none';

const GONE_REASON = 'endpoint answered 410 Gone';

/** Runs one attempt of one leased delivery: sign, send, record, and schedule the next attempt if any. */
@Injectable()
export class DeliveryProcessor {
  private readonly logger = new Logger('WebhookDelivery');

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: DeliveryStore,
    private readonly sender: WebhookSender,
    private readonly secrets: EndpointSecrets,
    private readonly queue: DeliveryQueue,
    private readonly hooks: OperationalHooks,
  ) {}

  async process({ delivery, body, endpoint }: ClaimedDelivery): Promise<EndpointResponse> {
    const now = Date.now();
    if (!endpoint || body === undefined) {
      await this.store.settle(delivery, { status: 'cancelled', nextAttemptAt: null, completedAt: now, lastError: 'endpoint deleted' });
      return 'none';
    }
    if (!endpoint.enabled) {
      await this.store.settle(delivery, { status: 'skipped', nextAttemptAt: null, completedAt: now, lastError: 'endpoint disabled' });
      return 'none';
    }

    const attempt = delivery.attemptCount + 1;
    const outcome = await this.sender.send(endpoint.url, this.headers(delivery, endpoint, body, attempt, now), body);
    const verdict = judgeAttempt(outcome, attempt, this.options.retry);
    const error = verdict.status === 'failed' && outcome.error ? `${outcome.error}; ${verdict.reason}` : outcome.error;
    const recorded = await this.record(delivery, attempt, now, outcome, verdict, truncate(error, 1024));

    if (verdict.status === 'succeeded') await this.endpointAnswered(endpoint);
    else await this.endpointFailed(endpoint, now, verdict);
    if (verdict.status === 'failed') {
      this.hooks.notify('onDeliveryFailed', {
        deliveryId: delivery.id,
        endpointId: endpoint.id,
        ownerId: endpoint.ownerId,
        eventId: delivery.eventId,
        eventType: delivery.eventType,
        attempts: attempt,
        lastError: truncate(error, 1024),
      });
    }
    if (recorded && verdict.status === 'pending') await this.queue.enqueueCommitted([delivery.id], verdict.retryInMs);
    return verdict.status === 'succeeded' ? 'ok' : 'failed';
  }

  private headers(delivery: WebhookDeliveryEntity, endpoint: WebhookEndpointEntity, body: string, attempt: number, now: number) {
    const timestamp = Math.floor(now / 1_000);
    const secrets = this.secrets.liveSecrets(endpoint, now);
    return {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardSignatureHeader(secrets, delivery.eventId, timestamp, body),
      'x-webhook-signature': hexSignature(secrets[0], body),
      'x-webhook-event': delivery.eventType,
      'x-webhook-delivery': delivery.id,
      'x-webhook-attempt': String(attempt),
    };
  }

  private record(delivery: WebhookDeliveryEntity, attempt: number, startedAt: number, outcome: SendOutcome, verdict: AttemptVerdict, error: string | null) {
    const finishedAt = Date.now();
    const change =
      verdict.status === 'pending'
        ? { status: verdict.status, nextAttemptAt: finishedAt + verdict.retryInMs }
        : { status: verdict.status, nextAttemptAt: null, completedAt: finishedAt };
    return this.store.recordAttempt(
      delivery,
      {
        id: newId('att', startedAt),
        attempt,
        startedAt,
        durationMs: outcome.durationMs,
        statusCode: outcome.statusCode,
        error,
        responseBody: outcome.responseBody,
      },
      { ...change, attemptCount: attempt, lastStatusCode: outcome.statusCode, lastError: error },
    );
  }

  private async endpointAnswered(endpoint: WebhookEndpointEntity): Promise<void> {
    if (endpoint.failingSince === null && endpoint.failureCount === 0) return;
    const recovered = await this.store.recordEndpointSuccess(endpoint.id);
    if (recovered && endpoint.failingSince !== null) {
      this.hooks.notify('onEndpointRecovered', { endpointId: endpoint.id, ownerId: endpoint.ownerId, failingSince: new Date(endpoint.failingSince) });
    }
  }

  /**
   * 410 disables at once. Otherwise an endpoint is disabled only after failing, without a success,
   * for `disable.afterFailingForMs` and at least `disable.minFailures` attempts, so one bad night
   * or one poisoned event does not switch a customer off.
   */
  private async endpointFailed(endpoint: WebhookEndpointEntity, now: number, verdict: AttemptVerdict): Promise<void> {
    await this.store.recordEndpointFailure(endpoint.id, now);
    const failures = endpoint.failureCount + 1;
    const since = endpoint.failingSince ?? now;
    const rules = this.options.disable;
    let reason: string | null = null;
    if (verdict.status === 'failed' && verdict.disableEndpoint) reason = GONE_REASON;
    else if (now - since >= rules.afterFailingForMs && failures >= rules.minFailures) {
      reason = `failing since ${new Date(since).toISOString()} (${failures} failed attempts)`;
    }
    if (reason && (await this.store.disableEndpoint(endpoint.id, reason))) {
      this.logger.warn(`Endpoint ${endpoint.id} was disabled: ${reason}`);
      this.hooks.notify('onEndpointDisabled', { endpointId: endpoint.id, ownerId: endpoint.ownerId, reason });
    }
  }
}

function truncate(value: string | null, length: number): string | null {
  return value !== null && value.length > length ? `${value.slice(0, length - 1)}…` : value;
}
