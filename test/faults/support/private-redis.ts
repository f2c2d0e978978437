import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/** A redis-server of the test's own, so it can be flushed or stopped without disturbing anyone. */
export class PrivateRedis {
  private constructor(
    readonly port: number,
    private process: ChildProcess,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const port = await freePort();
    const redis = new PrivateRedis(port, PrivateRedis.spawn(port));
    await redis.waitUntilUp();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async command(...args: [string, ...string[]]): Promise<unknown> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    try {
      return await client.call(...args);
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGKILL');
    await exited;
  }

  private static spawn(port: number): ChildProcess {
    return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  }

  private async waitUntilUp(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await this.command('PING')) === 'PONG') return;
      } catch {
        // not up yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }
}
