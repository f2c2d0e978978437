import type { IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';

export type StandardVerdict = { ok: true; payload: unknown } | { ok: false; reason: string };

/**
 * Standard Webhooks verification with the reference `standardwebhooks` package: it checks the
 * `v1,` signature over `webhook-id.webhook-timestamp.body` and rejects stale timestamps (replays).
 */
export function verifyStandardSignature(rawBody: string, headers: IncomingHttpHeaders, secret: string): StandardVerdict {
  const signed = {
    'webhook-id': header(headers, 'webhook-id'),
    'webhook-timestamp': header(headers, 'webhook-timestamp'),
    'webhook-signature': header(headers, 'webhook-signature'),
  };
  try {
    return { ok: true, payload: new Webhook(secret).verify(rawBody, signed) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** One header's value; Node joins repeated headers, which a valid delivery never sends. */
export function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
