/** Delay before the attempt after attempt `attempt` (1-based), or null when the schedule is exhausted. */
export function nextRetryDelay(schedule: readonly number[], attempt: number, random: () => number = Math.random): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random())); // ±20 % jitter spreads retry storms
}

/**
 * `Retry-After` as ms: delta-seconds or an HTTP date. Null when absent or unreadable, so a receiver
 * cannot make us retry sooner with garbage.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const header = Array.isArray(value) ? value[0] : value;
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  // HTTP dates name their month; this keeps Date.parse from reading "-5" or "1e3" as a year.
  const date = /[A-Za-z]{3}/.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * A receiver that asks us to wait (429/503 + Retry-After) gets at least that long, up to a bound;
 * it can never pull a retry earlier than our own schedule.
 */
export function retryDelayHonouringReceiver(scheduledDelay: number, retryAfterMs: number | null, maxRetryAfterMs: number): number {
  if (retryAfterMs === null) return scheduledDelay;
  return Math.max(scheduledDelay, Math.min(retryAfterMs, maxRetryAfterMs));
}

/** What the policy reads of the resolved options. */
export interface RetryPolicyOptions {
  retry: { schedule: readonly number[]; maxRetryAfterMs: number };
  delivery: { circuitBreaker: { failuresToOpen: number; baseBackoffMs: number; maxBackoffMs: number } };
}

/** Tries of a database write hit by a transient failure (a failover, a restart), and the first pause. */
const TRANSIENT_WRITE_TRIES = 5;
const FIRST_TRANSIENT_PAUSE_MS = 200;

/** Bounds on how long a queue job sent back for lack of room waits before it is tried again. */
const FIRST_SEND_BACK_MS = 250;
const MAX_SEND_BACK_MS = 30_000;

/**
 * Every delay the module waits before trying something again, in one place: a delivery's retry
 * schedule and a receiver's Retry-After, the circuit breaker's back-offs and deferrals, and the
 * pauses after the database or Redis refused work. The schedule and the breaker come from the
 * options; the rest are fixed here. Jitter everywhere spreads what would otherwise come back at once.
 */
export class RetryPolicy {
  /** How long a delivery may wait for its endpoint's allowance (or its probe's answer) before it is deferred instead. */
  readonly gateWaitMs = 250;
  /** A request outstanding this long marks its endpoint as stuck: nobody waits behind it. */
  readonly stuckAfterMs = 500;
  /** How far a delivery turned away by a busy (not failing) endpoint is deferred, before jitter. */
  readonly busyDeferMs = 1_000;
  /** After the database refused a claim, the job's deliveries come back this much later. */
  readonly claimRetryMs = 5_000;
  /** How long a queue job waits for room in a worker before it goes back to the queue. */
  readonly roomPatienceMs = 1_000;
  /** Deliveries held in memory while Redis seemed up but did not take them are offered again this much later. */
  readonly heldRetryMs = 5_000;

  constructor(
    private readonly options: RetryPolicyOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The circuit breaker's settings: when it opens and how long it stays open. */
  get circuit(): RetryPolicyOptions['delivery']['circuitBreaker'] {
    return this.options.delivery.circuitBreaker;
  }

  /** Delay before the attempt after attempt `attempt` (1-based), ±20 %, or null when the schedule is exhausted. */
  nextAttemptDelay(attempt: number): number | null {
    return nextRetryDelay(this.options.retry.schedule, attempt, this.random);
  }

  /** The scheduled delay, lengthened to a receiver's `Retry-After` within `retry.maxRetryAfterMs`. */
  honouringReceiver(scheduledDelay: number, retryAfterMs: number | null): number {
    return retryDelayHonouringReceiver(scheduledDelay, retryAfterMs, this.options.retry.maxRetryAfterMs);
  }

  /** Pause before try `n + 1` of a write after `n` transient failures (0.2, 0.4, 0.8, 1.6 s), or null when it should fail. */
  transientPause(failures: number): number | null {
    return failures < TRANSIENT_WRITE_TRIES ? FIRST_TRANSIENT_PAUSE_MS * 2 ** (failures - 1) : null;
  }

  /** How long a job sent back `returns` times waits: 250 ms the first time, doubling, at most 30 s, ±50 %. */
  sendBackDelay(returns: number): number {
    return Math.min(MAX_SEND_BACK_MS, FIRST_SEND_BACK_MS * 2 ** Math.min(returns - 1, 16)) * (0.5 + this.random());
  }
}
