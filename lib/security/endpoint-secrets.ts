import { Inject, Injectable } from '@nestjs/common';
import type { RetiredSecret, WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { SecretCipher } from './secret-cipher.js';
import { generateSecret } from './webhook-secret.js';

/**
 * An endpoint's signing secrets: the current one and, inside its rotation overlap, the one it
 * replaced. Never more than two, however often the secret is rotated: every live secret adds a
 * signature to every delivery's header, and an unbounded list would grow headers past what
 * receivers accept (431) and HMAC work past what the worker can spare.
 */
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

  /**
   * Newest first: the seed's single-signature header uses the first. Only the newest retired secret
   * counts (the list is stored newest first), even in a row written with a longer list.
   */
  liveSecrets(endpoint: Pick<WebhookEndpointEntity, 'secret' | 'retiredSecrets'>, now: number): string[] {
    const previous = endpoint.retiredSecrets?.[0];
    const current = this.current(endpoint);
    return previous && previous.expires_at > now ? [current, this.cipher.open(previous.secret)] : [current];
  }

  /** The retired list after rotating away from the current secret: that secret alone, for the overlap. */
  retire(endpoint: Pick<WebhookEndpointEntity, 'secret'>, now: number): RetiredSecret[] | null {
    const overlap = this.options.signing.rotationOverlapMs;
    return overlap === 0 ? null : [{ secret: endpoint.secret, expires_at: now + overlap }];
  }
}
