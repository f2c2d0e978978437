import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { EndpointSecrets } from '../security/endpoint-secrets.js';
import { WebhookSigner } from '../security/signatures/webhook-signer.js';
import { systemResolver } from '../security/ssrf-guard.js';
import { newId } from '../utils/id.js';
import { deliveryHeaders } from '../worker/delivery-headers.js';
import { WebhookSender } from '../worker/webhook-sender.js';
import type { LocalTarget } from './testing-options.js';
import type { RecordedDelivery } from './webhooks-recorder.js';

/** An event about to be sent, as the worker reads it from the store. */
export interface OutgoingEvent {
  id: string;
  type: string;
  body: string;
}

/**
 * One attempt per event to the host's receiver under test, made with the worker's own parts: the
 * signer (both signature schemes), the header builder and the sender. Plain `http://` and loopback
 * addresses are allowed, since the target is the test's own server. No retries, no circuit breaker.
 */
export class LocalDelivery {
  private readonly signer: WebhookSigner;
  private readonly sender: WebhookSender;

  constructor(
    private readonly target: LocalTarget,
    options: ResolvedWebhooksOptions,
  ) {
    this.signer = new WebhookSigner(new EndpointSecrets(options));
    this.sender = new WebhookSender({
      timeoutMs: options.delivery.timeoutMs,
      responseBodyLimitBytes: options.delivery.responseBodyLimitBytes,
      allowHttp: true,
      allowPrivateNetworks: true,
      resolver: systemResolver,
    });
  }

  async send(event: OutgoingEvent): Promise<RecordedDelivery> {
    const now = Date.now();
    const id = newId('dlv', now);
    const signatures = this.signer.headers(
      { id: event.id, timestamp: Math.floor(now / 1_000), body: event.body },
      { secret: this.target.secret, retiredSecrets: null },
      now,
    );
    const headers = deliveryHeaders({ id, eventType: event.type }, 1, signatures);
    const outcome = await this.sender.send(this.target.url, headers, event.body);
    return { url: this.target.url, id, headers, statusCode: outcome.statusCode, error: outcome.error, responseBody: outcome.responseBody };
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
