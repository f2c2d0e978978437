import { Logger } from '@nestjs/common';

/**
 * Runs `work` every `intervalMs` without overlapping itself, and stops cleanly: `stop()` waits for
 * a pass in progress. The timer is unref'd so it never keeps a process alive on its own.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** A pass was asked for while one was running: run another right after it. */
  private again = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger = new Logger(name),
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    this.tick();
  }

  /** A pass now, out of schedule (or right after the one in progress), once the task is started. */
  runNow(): void {
    if (this.running) this.again = true;
    else this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.running;
  }

  private tick(): void {
    if (this.running || !this.timer) return;
    this.again = false;
    this.running = this.work()
      .catch((error) => this.logger.warn(`${this.name} pass failed: ${(error as Error).message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) this.tick();
      });
  }
}
