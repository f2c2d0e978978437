import { Injectable } from '@nestjs/common';
import type { WebhookEndpointEntity } from '../../store/entities/webhook-endpoint.entity.js';
import { EndpointSecrets } from '../endpoint-secrets.js';
import { bodyHexScheme } from './body-hex.scheme.js';
import type { SignatureScheme, SignedMessage } from './signature-scheme.js';
import { standardWebhooksScheme } from './standard-webhooks.scheme.js';

/** Every delivery carries both: Standard Webhooks for new receivers, the guide's hex header for its own. */
const SCHEMES: readonly SignatureScheme[] = [standardWebhooksScheme, bodyHexScheme];

/** Signs one attempt with every scheme, from the endpoint's live secrets. */
@Injectable()
export class WebhookSigner {
  constructor(private readonly secrets: EndpointSecrets) {}

  headers(message: SignedMessage, endpoint: Pick<WebhookEndpointEntity, 'secret' | 'retiredSecrets'>, now: number): Record<string, string> {
    const live = this.secrets.liveSecrets(endpoint, now);
    return Object.assign({}, ...SCHEMES.map((scheme) => scheme.headers(message, live)));
  }
}
