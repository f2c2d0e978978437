import type { BenchSchema } from './infra.js';

/**
 * What the module's own tables say about an owner's deliveries after a scenario: how many ended in
 * each status, how many attempts they took and why attempts failed, and the slowest deliveries with
 * every attempt, so a missed target can be traced to the rows that caused it.
 */

export interface OwnerDeliveryLog {
  ownerId: string;
  byStatus: Record<string, number>;
  /** Deliveries by `attempt_count`. */
  byAttemptCount: Record<string, number>;
  attempts: number;
  /** Attempts by outcome: `HTTP <code>`, the start of the error text, or `not sent (probe failed)`. */
  attemptsByOutcome: Record<string, number>;
}

export interface AttemptTrace {
  attempt: number;
  /** When it started, in ms after the delivery row was created. */
  startedAfterMs: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface DeliveryTrace {
  id: string;
  url: string;
  status: string;
  attemptCount: number;
  /** Row creation to completion (or to now, still open), in ms. */
  openMs: number;
  attempts: AttemptTrace[];
}

/** Attempt outcomes in a few buckets: error texts are cut where their variable part (times, addresses) starts. */
const OUTCOME = `CASE WHEN a.error LIKE 'not sent:%' THEN 'not sent (probe failed)'
  WHEN a.status_code IS NOT NULL THEN 'HTTP ' || a.status_code
  ELSE left(a.error, 32) END`;

export async function ownerDeliveryLog(schema: BenchSchema, ownerId: string): Promise<OwnerDeliveryLog> {
  const s = `"${schema.name}"`;
  const ofOwner = `FROM ${s}.webhook_deliveries d JOIN ${s}.webhook_endpoints e ON e.id = d.endpoint_id WHERE e.owner_id = $1`;
  const [statuses, counts, outcomes]: Array<Array<{ key: string | number; n: string }>> = await Promise.all([
    schema.dataSource.query(`SELECT d.status AS key, count(*) AS n ${ofOwner} GROUP BY 1`, [ownerId]),
    schema.dataSource.query(`SELECT d.attempt_count AS key, count(*) AS n ${ofOwner} GROUP BY 1 ORDER BY 1`, [ownerId]),
    schema.dataSource.query(
      `SELECT ${OUTCOME} AS key, count(*) AS n FROM ${s}.webhook_delivery_attempts a
       JOIN ${s}.webhook_deliveries d ON d.id = a.delivery_id JOIN ${s}.webhook_endpoints e ON e.id = d.endpoint_id
       WHERE e.owner_id = $1 GROUP BY 1 ORDER BY 2 DESC`,
      [ownerId],
    ),
  ]);
  const record = (rows: Array<{ key: string | number; n: string }>) =>
    Object.fromEntries(rows.map((row) => [String(row.key), Number(row.n)]));
  const attemptsByOutcome = record(outcomes);
  return {
    ownerId,
    byStatus: record(statuses),
    byAttemptCount: record(counts),
    attempts: Object.values(attemptsByOutcome).reduce((a, b) => a + b, 0),
    attemptsByOutcome,
  };
}

/** The owner's `limit` deliveries that were open longest (row created → completed, or → now), with their attempts. */
export async function slowestDeliveries(schema: BenchSchema, ownerId: string, limit: number): Promise<DeliveryTrace[]> {
  const s = `"${schema.name}"`;
  type Row = { id: string; url: string; status: string; attempt_count: number; created_at: string; open_ms: string };
  const rows: Row[] = await schema.dataSource.query(
    `SELECT d.id, e.url, d.status, d.attempt_count, d.created_at,
            coalesce(d.completed_at, (extract(epoch from clock_timestamp()) * 1000)::bigint) - d.created_at AS open_ms
     FROM ${s}.webhook_deliveries d JOIN ${s}.webhook_endpoints e ON e.id = d.endpoint_id
     WHERE e.owner_id = $1 ORDER BY open_ms DESC LIMIT $2`,
    [ownerId, limit],
  );
  if (rows.length === 0) return [];
  type AttemptRow = { delivery_id: string; attempt: number; started_at: string; duration_ms: number; status_code: number | null };
  const attempts: Array<AttemptRow & { error: string | null }> = await schema.dataSource.query(
    `SELECT delivery_id, attempt, started_at, duration_ms, status_code, error FROM ${s}.webhook_delivery_attempts
     WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt`,
    [rows.map((row) => row.id)],
  );
  return rows.map((row) => ({
    id: row.id,
    url: new URL(row.url).pathname,
    status: row.status,
    attemptCount: row.attempt_count,
    openMs: Number(row.open_ms),
    attempts: attempts
      .filter((attempt) => attempt.delivery_id === row.id)
      .map((attempt) => ({
        attempt: attempt.attempt,
        startedAfterMs: Number(attempt.started_at) - Number(row.created_at),
        durationMs: attempt.duration_ms,
        statusCode: attempt.status_code,
        error: attempt.error,
      })),
  }));
}
