/** What every bench event carries: its sequence number, the emit wall-clock time and padding. */
export interface BenchEventData {
  seq: number;
  t: number;
  pad: string;
}

export const BENCH_EVENT_TYPE = 'bench.event';

/**
 * Envelope overhead around `data`, measured on a body of the module's exact wire format
 * (`{"id","type","created_at","data"}`) so that padding brings every body to about `bodyBytes`.
 */
const SAMPLE_ENVELOPE =
  `{"id":"evt_01KB0000000000000000000000","type":"${BENCH_EVENT_TYPE}",` +
  '"created_at":"2026-01-01T12:00:00.000Z","data":{"seq":100000,"t":1764400000000.123,"pad":""}}';

export function padFor(bodyBytes: number): string {
  return 'x'.repeat(Math.max(0, bodyBytes - SAMPLE_ENVELOPE.length));
}

export function eventData(seq: number, t: number, pad: string): BenchEventData {
  return { seq, t, pad };
}

/** A body byte-for-byte shaped like the module's, for the bare loop (L). */
export function wireBody(eventId: string, data: BenchEventData): string {
  return (
    `{"id":${JSON.stringify(eventId)},"type":"${BENCH_EVENT_TYPE}",` +
    `"created_at":"${new Date().toISOString()}","data":${JSON.stringify(data)}}`
  );
}
