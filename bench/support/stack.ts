import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AppSettings } from '../app-process.js';
import type { TelemetrySetup } from './telemetry-sdk.js';
import { config } from '../config.js';
import type { AwaitResult } from '../receiver.js';
import { Child } from './ipc.js';
import { BenchSchema, leftovers, removeQueue } from './infra.js';

export type Receiver = Child<{ port: number }>;
export type AppChild = Child<{ pid: number; readyAt: number }>;

const APP_SCRIPT = join(__dirname, '..', 'app-process.js');

export const runId = randomBytes(3).toString('hex');

export function receiverUrl(receiver: Receiver, path: string): string {
  return `http://127.0.0.1:${receiver.ready.port}${path}`;
}

/**
 * Waits until the receiver has acknowledged `count` unique deliveries in `group`. Start waiting before
 * emitting; if the scenario fails before awaiting it, the rejection is not an unhandled one.
 */
export function awaitAcks(receiver: Receiver, group: string, count: number, timeoutMs: number): Promise<AwaitResult> {
  const acks = receiver.request<AwaitResult>('await', { group, count, timeoutMs }, timeoutMs + 10_000);
  acks.catch(() => undefined);
  return acks;
}

export interface StackOptions {
  workers?: number;
  /** The emitting process delivers too (`processor: true`, the module's default deployment). */
  emitterDelivers?: boolean;
  timeoutMs?: number;
  retrySchedule?: number[];
  maxEndpointsPerOwner?: number;
  countQueries?: boolean;
  telemetry?: TelemetrySetup;
  workerExecArgv?: (index: number) => string[];
  emitterExecArgv?: string[];
}

/**
 * One scenario's private world: its own schema (module tables from the module's migrations), its own
 * Bull queue name, an emitter process (which may deliver too) and zero or more worker processes.
 * `close()` removes all of it.
 */
export class Stack {
  readonly queueName: string;
  emitter!: AppChild;
  workers: AppChild[] = [];

  private constructor(
    readonly label: string,
    readonly schema: BenchSchema,
    readonly receiver: Receiver,
    private readonly options: StackOptions,
  ) {
    this.queueName = `bench-${runId}-${label.toLowerCase()}`;
    leftovers.queues.add(this.queueName);
  }

  static async start(receiver: Receiver, label: string, options: StackOptions = {}): Promise<Stack> {
    const stack = new Stack(label, await BenchSchema.create(label), receiver, options);
    try {
      stack.emitter = await Child.start<AppChild['ready']>(APP_SCRIPT, {
        name: `${label} emitter`,
        env: { BENCH_APP: JSON.stringify(stack.settings(options.emitterDelivers ? 'app' : 'emitter')) },
        execArgv: options.emitterExecArgv,
      });
      await stack.startWorkers(options.workers ?? 0);
    } catch (error) {
      await stack.close();
      throw error;
    }
    return stack;
  }

  settings(role: AppSettings['role']): AppSettings {
    return {
      role,
      databaseUrl: config.databaseUrl,
      redisUrl: config.redisUrl,
      schema: this.schema.name,
      queueName: this.queueName,
      concurrency: config.concurrency,
      timeoutMs: this.options.timeoutMs,
      retrySchedule: this.options.retrySchedule,
      maxEndpointsPerOwner: this.options.maxEndpointsPerOwner,
      countQueries: this.options.countQueries,
      telemetry: this.options.telemetry,
    };
  }

  async startWorkers(count: number, extra: Partial<AppSettings> = {}): Promise<void> {
    const started = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        Child.start<AppChild['ready']>(APP_SCRIPT, {
          name: `${this.label} worker ${this.workers.length + i + 1}`,
          env: { BENCH_APP: JSON.stringify({ ...this.settings('worker'), ...extra }) },
          execArgv: this.options.workerExecArgv?.(this.workers.length + i) ?? [],
        }),
      ),
    );
    this.workers.push(...started);
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop(8_000)));
    this.workers = [];
  }

  url(path: string): string {
    return receiverUrl(this.receiver, path);
  }

  createEndpoints(ownerId: string, paths: string[]): Promise<string[]> {
    return this.emitter.request<string[]>('createEndpoints', { ownerId, urls: paths.map((path) => this.url(path)) });
  }

  /**
   * Runs `config.warmupDeliveries` through the whole pipeline (a separate owner and receiver group) so
   * that JIT, connection pools and keep-alive sockets are warm before anything is timed.
   */
  async warmUp(): Promise<void> {
    const group = `/ok/warm-${this.label.toLowerCase()}`;
    const owner = `warm-${this.label}`;
    await this.createEndpoints(owner, [`${group}/0`]);
    const acks = awaitAcks(this.receiver, group, config.warmupDeliveries, 60_000);
    await this.emitter.request('burst', {
      ownerId: owner,
      events: config.warmupDeliveries,
      batch: config.emitBatch,
      bodyBytes: config.bodyBytes,
    });
    const result = await acks;
    if (!result.reached) throw new Error(`${this.label}: warm-up deliveries did not arrive (${result.unique}/${config.warmupDeliveries})`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.map((worker) => worker.stop(8_000)), this.emitter?.stop(8_000)]);
    this.workers = [];
    await removeQueue(this.queueName).catch(() => undefined);
    await this.schema.drop();
  }
}

/** Runs `body` with a fresh stack and always tears it down. */
export async function withStack<T>(
  receiver: Receiver,
  label: string,
  options: StackOptions,
  body: (stack: Stack) => Promise<T>,
): Promise<T> {
  const stack = await Stack.start(receiver, label, options);
  try {
    return await body(stack);
  } finally {
    await stack.close();
  }
}
