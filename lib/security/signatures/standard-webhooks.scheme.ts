import { createHmac } from 'node:crypto';
import { SECRET_PREFIX } from '../webhook-secret.js';
import type { SignatureScheme, SignedMessage } from './signature-scheme.js';

/**
 * Standard Webhooks `v1` signature: HMAC-SHA256 over `id.timestamp.body`, keyed with the
 * base64-decoded part of the secret after `whsec_`.
 */
export function standardSignature(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one `v1,` entry per live secret, so receivers on either secret verify. */
export function standardSignatureHeader(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): string {
  return secrets.map((secret) => standardSignature(secret, messageId, timestampSeconds, body)).join(' ');
}

/** Standard Webhooks: `webhook-id`, `webhook-timestamp` and a `webhook-signature` entry per live secret. */
export const standardWebhooksScheme: SignatureScheme = {
  headers: ({ id, timestamp, body }: SignedMessage, secrets: readonly string[]) => ({
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standardSignatureHeader(secrets, id, timestamp, body),
  }),
};
