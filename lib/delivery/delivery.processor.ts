import { Inject, Injectable, Logger } from '@nestjs/common';
import { newId } from '../id.js';
import type { ResolvedWebhooksOptions } from '../options/resolved-options.js';
import { hexSignature, standardSignatureHeader } from '../signing/signature.js';
import { EndpointSecrets } from '../signing/endpoint-secrets.js';
import { USER_AGENT, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { judgeAttempt } from './attempt-verdict.js';
import { DeliveryQueue } from './delivery-queue.js';
import { DeliveryStore, type ClaimedDelivery } from './delivery-store.js';
import { WebhookSender } from './webhook-sender.js';

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
  ) {}

  async process({ delivery, body, endpoint }: ClaimedDelivery): Promise<void> {
    const now = Date.now();
    if (!endpoint || body === undefined) {
      await this.store.settle(delivery, { status: 'cancelled', nextAttemptAt: null, completedAt: now, lastError: 'endpoint deleted' });
      return;
    }
    if (!endpoint.enabled) {
      await this.store.settle(delivery, { status: 'skipped', nextAttemptAt: null, completedAt: now, lastError: 'endpoint disabled' });
      return;
    }

    const attempt = delivery.attemptCount + 1;
    const timestamp = Math.floor(now / 1_000);
    const secrets = this.secrets.liveSecrets(endpoint, now);
    const headers = {
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
    const outcome = await this.sender.send(endpoint.url, headers, body);
    const verdict = judgeAttempt(outcome, attempt, this.options.retry);
    const finishedAt = Date.now();
    const change =
      verdict.status === 'pending'
        ? { status: verdict.status, nextAttemptAt: finishedAt + verdict.retryInMs }
        : { status: verdict.status, nextAttemptAt: null, completedAt: finishedAt };
    const error = verdict.status === 'failed' && outcome.error ? `${outcome.error}; ${verdict.reason}` : outcome.error;
    const recorded = await this.store.recordAttempt(
      delivery,
      {
        id: newId('att', now),
        attempt,
        startedAt: now,
        durationMs: outcome.durationMs,
        statusCode: outcome.statusCode,
        error: truncate(error, 1024),
        responseBody: outcome.responseBody,
      },
      { ...change, attemptCount: attempt, lastStatusCode: outcome.statusCode, lastError: truncate(error, 1024) },
    );

    if (verdict.status === 'succeeded') {
      if (endpoint.failingSince !== null) await this.store.markEndpointHealthy(endpoint.id);
    } else if (endpoint.failingSince === null) {
      await this.store.markEndpointFailing(endpoint.id, now);
    }
    if (verdict.status === 'failed' && verdict.disableEndpoint) {
      await this.store.disableEndpoint(endpoint.id, 'endpoint answered 410 Gone');
      this.logger.warn(`Endpoint ${endpoint.id} answered 410 Gone and was disabled`);
    }
    if (recorded && verdict.status === 'pending') await this.queue.enqueueCommitted([delivery.id], verdict.retryInMs);
  }
}

function truncate(value: string | null, length: number): string | null {
  return value !== null && value.length > length ? `${value.slice(0, length - 1)}…` : value;
}
