import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The webhook guide's `verify_signature`, line for line:
 *
 *     expected = hmac.new(secret.encode('utf-8'), payload.encode('utf-8'), hashlib.sha256).hexdigest()
 *     return hmac.compare_digest(expected, signature)
 *
 * `payload` is the raw request body as text and `signature` the `x-webhook-signature` header.
 */
export function verifyGuideSignature(payload: string, signature: string, secret: string): boolean {
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(payload, 'utf8')).digest('hex');
  return constantTimeEqual(expected, signature);
}

/** Like `hmac.compare_digest`: unequal lengths are simply unequal, equal lengths compare in constant time. */
function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
