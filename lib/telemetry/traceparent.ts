/** A span's identity as W3C Trace Context carries it; structurally the same as OpenTelemetry's `SpanContext`. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZERO = /^0+$/;

/** `00-<trace id>-<span id>-<flags>`, version 00 of the `traceparent` header; null for an invalid context. */
export function formatTraceparent({ traceId, spanId, traceFlags }: TraceParent): string | null {
  if (!/^[0-9a-f]{32}$/.test(traceId) || !/^[0-9a-f]{16}$/.test(spanId) || ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return null;
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The span a stored `traceparent` names; null for anything else (the column is read back from the database). */
export function parseTraceparent(value: string | null | undefined): TraceParent | null {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match || ALL_ZERO.test(match[1]) || ALL_ZERO.test(match[2])) return null;
  return { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16) };
}
