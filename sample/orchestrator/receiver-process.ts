import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ReceivedDelivery } from '../receiver/received-delivery.js';
import { killWithThisProcess, stopChild } from './child-lifetime.js';
import { sleep } from './wait-for.js';

/** The receiver, started exactly as a user would run it: `node receiver/main.js` with PORT and WEBHOOK_SECRET. */
export class ReceiverProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly baseUrl: string,
  ) {}

  static async start(options: { port: number; secret: string; log: (line: string) => void }): Promise<ReceiverProcess> {
    const child = spawn(process.execPath, [join(__dirname, '..', 'receiver', 'main.js')], {
      env: { ...process.env, PORT: String(options.port), WEBHOOK_SECRET: options.secret },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killWithThisProcess(child);
    createInterface({ input: child.stdout! }).on('line', options.log);
    createInterface({ input: child.stderr! }).on('line', options.log);
    const receiver = new ReceiverProcess(child, `http://127.0.0.1:${options.port}`);
    await receiver.waitUntilListening();
    return receiver;
  }

  /** Everything the receiver has recorded so far. */
  async results(): Promise<ReceivedDelivery[]> {
    const response = await fetch(`${this.baseUrl}/results`);
    if (!response.ok) throw new Error(`receiver GET /results answered ${response.status}`);
    return (await response.json()) as ReceivedDelivery[];
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }

  private async waitUntilListening(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`the receiver exited with code ${this.child.exitCode}`);
      try {
        await this.results();
        return;
      } catch {
        await sleep(50);
      }
    }
    await this.stop();
    throw new Error(`the receiver did not start listening within ${timeoutMs} ms`);
  }
}
