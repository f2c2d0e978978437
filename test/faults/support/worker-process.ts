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

/** A worker in a child process, so a test can `kill -9` it mid-burst and start another. */
export class WorkerProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(config: WorkerConfig): Promise<WorkerProcess> {
    const script = join(process.cwd(), 'test', 'faults', 'fixtures', 'worker-process.mjs');
    const child = spawn(process.execPath, [script], { env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
    });
    return new WorkerProcess(child);
  }

  /** SIGKILL: no shutdown hook runs, nothing is handed back; whatever it held must be recovered. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
