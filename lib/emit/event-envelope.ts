import { InvalidPayloadError, PayloadTooLargeError, WebhookError } from '../webhooks.errors.js';
import { PayloadGuard } from './payload-guard.js';

/**
 * The delivery body, serialized once: `{"id","type","created_at","data"}` in the seed guide's order.
 * Values JSON would silently drop or mangle (functions, NaN, Buffers, undefined…) are refused rather
 * than sent wrong, and a body over `maxBytes` is refused as soon as that is known, without serializing
 * the rest of it.
 */
export function serializeEvent(id: string, type: string, createdAt: Date, data: unknown, maxBytes = Number.MAX_SAFE_INTEGER): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidPayloadError(
      `data must be a plain object, got ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}`,
    );
  }
  const head = `{"id":${JSON.stringify(id)},"type":${JSON.stringify(type)},"created_at":"${createdAt.toISOString()}","data":`;
  let json: string;
  try {
    json = JSON.stringify(data, new PayloadGuard(head.length + 1, maxBytes).replacer);
  } catch (error) {
    if (error instanceof WebhookError) throw error;
    throw new InvalidPayloadError((error as Error).message.split('\n')[0]);
  }
  const body = `${head}${json}}`;
  const bytes = Buffer.byteLength(body);
  if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes);
  return body;
}
