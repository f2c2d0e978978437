import { createHmac } from 'node:crypto';
import type { SignatureScheme, SignedMessage } from './signature-scheme.js';

/**
 * The Webhook Setup guide's `x-webhook-signature`: hex HMAC-SHA256 of the raw body, keyed with the
 * whole secret string's UTF-8 bytes, exactly what its Python `verify_signature` recomputes.
 */
export function hexSignature(secret: string, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

/** The guide's scheme signs with the newest secret only: its receivers know one secret. */
export const bodyHexScheme: SignatureScheme = {
  headers: ({ body }: SignedMessage, secrets: readonly string[]) => ({ 'x-webhook-signature': hexSignature(secrets[0], body) }),
};
