import type { IncomingHttpHeaders } from 'node:http';
import { verifyGuideSignature } from './guide-signature.js';
import type { ReceivedDelivery } from './received-delivery.js';
import { header, verifyStandardSignature } from './standard-signature.js';

interface EventEnvelope {
  id: string;
  type: string;
  data: unknown;
}

/** Checks one request both ways; it is accepted (200) only if both signatures verify, else 401. */
export function verifyDelivery(rawBody: string, headers: IncomingHttpHeaders, secret: string): ReceivedDelivery {
  const guideSignatureOk = verifyGuideSignature(rawBody, header(headers, 'x-webhook-signature'), secret);
  const standard = verifyStandardSignature(rawBody, headers, secret);
  const problems = [
    ...(guideSignatureOk ? [] : ['x-webhook-signature does not match']),
    ...(standard.ok ? [] : [`webhook-signature: ${standard.reason}`]),
  ];
  const event = parseEnvelope(rawBody);
  return {
    receivedAt: new Date().toISOString(),
    webhookId: header(headers, 'webhook-id'),
    deliveryId: header(headers, 'x-webhook-delivery'),
    attempt: Number(header(headers, 'x-webhook-attempt')) || 0,
    eventId: event?.id ?? null,
    eventType: event?.type ?? null,
    data: event?.data ?? null,
    guideSignatureOk,
    standardSignatureOk: standard.ok,
    status: problems.length === 0 ? 200 : 401,
    problem: problems.length === 0 ? null : problems.join('; '),
  };
}

/** The event in the body, read only to report what arrived; trust comes from the signatures. */
function parseEnvelope(rawBody: string): EventEnvelope | null {
  try {
    const value: unknown = JSON.parse(rawBody);
    if (value === null || typeof value !== 'object') return null;
    const { id, type, data } = value as Record<string, unknown>;
    return typeof id === 'string' && typeof type === 'string' ? { id, type, data } : null;
  } catch {
    return null;
  }
}
