/**
 * Every size and knob of the benchmark, read once from the environment. `BENCH_SCALE` shrinks or grows
 * all counts and durations together (0.2 for a quick run); a specific `BENCH_*` variable wins over it.
 */
const scale = positiveNumber('BENCH_SCALE', 1);

export const config = {
  scale,
  databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  /** Scenarios to run, e.g. `BENCH_ONLY=L,P1,P4`; all by default. */
  only: (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean),
  /** The module's default `delivery.concurrency`; L uses the same number of requests in flight. */
  concurrency: integer('BENCH_CONCURRENCY', 50),
  /** Size of every delivered body (the envelope included), for L and the module alike. */
  bodyBytes: integer('BENCH_BODY_BYTES', 512),
  /** Events per `emitMany` call wherever events are emitted "as fast as possible". */
  emitBatch: integer('BENCH_EMIT_BATCH', 100),
  /** Deliveries acknowledged by the receiver before each scenario's measurement starts. */
  warmupDeliveries: scaled('BENCH_WARMUP', 500, 50),

  /** Requests in each of L's three runs (the bare undici loop). */
  limitRequests: scaled('BENCH_L_REQUESTS', 10_000, 2_000),
  p1: { endpoints: 10, deliveries: scaled('BENCH_P1_DELIVERIES', 15_000, 2_000) },
  p2: { rate: integer('BENCH_P2_RATE', 500), seconds: scaled('BENCH_P2_SECONDS', 8, 3), warmupSeconds: 1 },
  p3: {
    endpoints: 1,
    emitCount: scaled('BENCH_P3_EMITS', 5_000, 1_000),
    serialCount: scaled('BENCH_P3_SERIAL_EMITS', 1_000, 200),
    manyCount: scaled('BENCH_P3_EMIT_MANY', 40_000, 5_000),
    /** Callers awaiting their own emit in parallel, as a host's concurrent requests would. */
    callers: integer('BENCH_P3_CALLERS', 16),
  },
  p4: { endpoints: integer('BENCH_P4_ENDPOINTS', 1_000), repeats: scaled('BENCH_P4_REPEATS', 3, 1) },
  p5: {
    endpoints: 20,
    deliveries: scaled('BENCH_P5_DELIVERIES', 6_000, 1_000),
    timeoutMs: integer('BENCH_P5_TIMEOUT_MS', 5_000),
    /** How long the black-holed run may take before healthy throughput is read off what arrived. */
    deadlineSeconds: scaled('BENCH_P5_DEADLINE_SECONDS', 12, 12),
  },
  p6: { endpoints: 10, deliveries: scaled('BENCH_P6_DELIVERIES', 100_000, 10_000), rssSampleMs: 250 },
  p7: { workers: 2 },
  p8: {
    /** Events to each of the three flaky endpoints. */
    eventsPerEndpoint: scaled('BENCH_P8_EVENTS', 300, 50),
    /** Share of requests each endpoint fails, drawn from a seeded PRNG in the receiver. */
    failureRate: 0.3,
    seed: 'p8',
    timeoutMs: 500,
    retrySchedule: Array<number>(12).fill(150),
    /** How long to wait for every delivery before reporting what arrived. */
    deadlineSeconds: 180,
  },
  p9: {
    /** The noisy owner's endpoints, none of which ever answers; each of its events goes to all of them. */
    noisyEndpoints: scaled('BENCH_P9_ENDPOINTS', 1_000, 200),
    noisyEvents: 10,
    timeoutMs: 2_000,
    /** The quiet owner emits one event every `quietIntervalMs` for `quietSeconds`. */
    quietIntervalMs: 250,
    quietSeconds: scaled('BENCH_P9_SECONDS', 20, 8),
    /** The quiet owner is already emitting this long when the noisy owner's burst starts. */
    leadMs: 1_000,
    /** How long after its last emit the quiet owner's deliveries may still arrive before they count as lost. */
    graceSeconds: 10,
  },
};

export type BenchConfig = typeof config;

export function selected(id: string): boolean {
  return config.only.length === 0 || config.only.includes(id.toUpperCase());
}

function scaled(name: string, base: number, min: number): number {
  const explicit = process.env[name];
  if (explicit !== undefined) return integer(name, base);
  return Math.max(min, Math.round(base * scale));
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}
