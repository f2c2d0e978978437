import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/** Counts the queue's keys, its waiting and delayed jobs and their delivery ids; with ARGV[2] 'flush', then FLUSHALL, atomically. */
const COUNT_QUEUED = `
local prefix = ARGV[1]
local keys = #redis.call('KEYS', prefix .. '*')
local jobs, deliveries = 0, 0
local function count(id)
  local data = redis.call('HGET', prefix .. id, 'data')
  if data then
    jobs = jobs + 1
    deliveries = deliveries + #(cjson.decode(data).ids or {})
  end
end
for _, id in ipairs(redis.call('LRANGE', prefix .. 'wait', 0, -1)) do count(id) end
for _, id in ipairs(redis.call('ZRANGE', prefix .. 'delayed', 0, -1)) do count(id) end
for _, id in ipairs(redis.call('LRANGE', prefix .. 'active', 0, -1)) do count(id) end
if ARGV[2] == 'flush' or (ARGV[2] == 'flush-if-queued' and jobs > 0) then redis.call('FLUSHALL') end
return { keys, jobs, deliveries }`;

export interface QueuedWork {
  keys: number;
  jobs: number;
  deliveries: number;
}

/**
 * A redis-server of the test's own, so it can be flushed, stopped and started again without disturbing
 * anyone. It keeps its port across `stop()` and `start()`; it persists nothing, so each start is empty.
 */
export class PrivateRedis {
  private process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    /** Clients must authenticate with it (`requirepass`) when set. */
    private readonly password?: string,
  ) {}

  /** A running redis-server on a free port. */
  static async start(options: { password?: string } = {}): Promise<PrivateRedis> {
    const redis = await PrivateRedis.reserve(options);
    await redis.start();
    return redis;
  }

  /** A free port where nothing answers yet, for apps that boot before Redis does; `start()` brings it up. */
  static async reserve(options: { password?: string } = {}): Promise<PrivateRedis> {
    return new PrivateRedis(await freePort(), options.password);
  }

  get url(): string {
    return `redis://${this.password ? `:${encodeURIComponent(this.password)}@` : ''}127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== null && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Starts redis-server on this port (again, after `stop()`), empty, and waits until it answers. */
  async start(): Promise<void> {
    if (this.running) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    if (this.password) args.push('--requirepass', this.password);
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.process = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server on port ${this.port} exited with ${code} before answering`))),
    );
    exited.catch(() => undefined);
    await Promise.race([this.waitUntilUp(), exited]);
  }

  async command(...args: [string, ...string[]]): Promise<unknown> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(...args);
    } finally {
      client.disconnect();
    }
  }

  /**
   * Flushes everything (FLUSHALL) in one atomic step with counting what the queue held: its keys, the
   * jobs waiting or delayed, and the delivery ids those jobs named, so a test can show what was lost.
   */
  async flushAll(queueName: string): Promise<QueuedWork> {
    const [keys, jobs, deliveries] = (await this.command('EVAL', COUNT_QUEUED, '0', `bull:${queueName}:`, 'flush')) as number[];
    return { keys, jobs, deliveries };
  }

  /** Flushes only while the queue holds jobs (their count is then above 0), atomically with the count. */
  async flushAllIfQueued(queueName: string): Promise<QueuedWork> {
    const [keys, jobs, deliveries] = (await this.command('EVAL', COUNT_QUEUED, '0', `bull:${queueName}:`, 'flush-if-queued')) as number[];
    return { keys, jobs, deliveries };
  }

  /** What the queue holds now: its keys, the jobs waiting, delayed or being processed, and the delivery ids they name. */
  async queued(queueName: string): Promise<QueuedWork> {
    const [keys, jobs, deliveries] = (await this.command('EVAL', COUNT_QUEUED, '0', `bull:${queueName}:`, 'count')) as number[];
    return { keys, jobs, deliveries };
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing, as a frozen host would. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  /** SIGCONT: the frozen server answers again, what it was sent meanwhile included. */
  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  /** Kills redis-server (SIGKILL: clients see the connection drop, as in a crash); the port stays reserved for `start()`. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  private async waitUntilUp(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      try {
        // A bare TCP probe first: a refused ioredis connection leaves timers behind for a while.
        if ((await this.accepts()) && (await this.command('PING')) === 'PONG') return;
      } catch {
        // not up yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  private accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: this.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }
}
