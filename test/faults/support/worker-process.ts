import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { WebhooksModuleRootOptions } from '../../../lib/index.js';

export interface WorkerConfig {
  database: DataSourceOptions;
  redisUrl: string;
  webhooks: Partial<WebhooksModuleRootOptions>;
  /** Also emit `count` events, 50 every `pauseMs`, as soon as it is up (it delivers what it emitted itself). */
  emit?: { ownerId: string; type: string; count: number; pauseMs: number };
}

/**
 * A worker in a child process, so a test can `kill -9` it mid-burst and start another. With `emit`, the
 * ids of every batch whose `emitMany` resolved (committed) are reported on stdout and kept in `committed`.
 */
export class WorkerProcess {
  /** Event ids the child reported committed, in order. */
  readonly committed: string[] = [];
  private readonly outputClosed: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.outputClosed = new Promise((resolve) => child.stdout!.once('close', resolve));
    let pending = '';
    child.stdout!.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('committed ')) this.committed.push(...(JSON.parse(line.slice('committed '.length)) as string[]));
      }
    });
  }

  static async start(config: WorkerConfig): Promise<WorkerProcess> {
    const script = join(process.cwd(), 'test', 'faults', 'fixtures', 'worker-process.mjs');
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const worker = new WorkerProcess(child);
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk;
        if (!output.includes('ready\n')) return;
        child.stdout!.off('data', onData);
        resolve();
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
    });
    return worker;
  }

  /**
   * SIGKILL: no shutdown hook runs, nothing is handed back; whatever it held must be recovered. Resolves
   * once everything it wrote to stdout has been read.
   */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
    await this.outputClosed;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
