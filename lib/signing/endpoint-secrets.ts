import { Inject, Injectable } from '@nestjs/common';
import type { RetiredSecret, WebhookEndpointEntity } from '../entities/webhook-endpoint.entity.js';
import type { ResolvedWebhooksOptions } from '../options/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { SecretCipher } from './secret-cipher.js';
import { generateSecret } from './signature.js';

/** An endpoint's signing secrets: the current one and those still inside their rotation overlap. */
@Injectable()
export class EndpointSecrets {
  private readonly cipher: SecretCipher;

  constructor(@Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions) {
    this.cipher = new SecretCipher(options.security.encryptionKey);
  }

  /** A fresh secret: what the API returns once, and the sealed form the database keeps. */
  create(): { secret: string; stored: string } {
    const secret = generateSecret();
    return { secret, stored: this.cipher.seal(secret) };
  }

  current(endpoint: Pick<WebhookEndpointEntity, 'secret'>): string {
    return this.cipher.open(endpoint.secret);
  }

  /** Newest first: the seed's single-signature header uses the first. */
  liveSecrets(endpoint: Pick<WebhookEndpointEntity, 'secret' | 'retiredSecrets'>, now: number): string[] {
    const retired = (endpoint.retiredSecrets ?? []).filter((entry) => entry.expires_at > now).map((entry) => this.cipher.open(entry.secret));
    return [this.current(endpoint), ...retired];
  }

  /** The retired list after rotating away from the current secret, dropping what has expired. */
  retire(endpoint: Pick<WebhookEndpointEntity, 'secret' | 'retiredSecrets'>, now: number): RetiredSecret[] {
    const overlap = this.options.signing.rotationOverlapMs;
    const still = (endpoint.retiredSecrets ?? []).filter((entry) => entry.expires_at > now);
    return overlap === 0 ? still : [{ secret: endpoint.secret, expires_at: now + overlap }, ...still];
  }
}
