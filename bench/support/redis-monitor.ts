import Redis from 'ioredis';
import { config } from '../config.js';

/**
 * Records, through `MONITOR`, every Redis command that names one of the queue's keys: those sent by the
 * bench's processes (attributed by their local port) and those run inside Lua scripts. Commands that
 * touch no queue key (CLIENT SETNAME, INFO…) are per-connection, not per-delivery, and are left out.
 */
export class RedisMonitor {
  private readonly byPort = new Map<number, string>();
  private readonly lines: Array<{ source: string; command: string }> = [];
  private client: Redis | undefined;
  private monitor: Redis | undefined;

  constructor(
    private readonly queueName: string,
    private readonly scriptNames: Record<string, string>,
  ) {}

  /** Names the process that owns these local ports (its Bull connections). */
  attribute(ports: number[], name: string): void {
    for (const port of ports) this.byPort.set(port, name);
  }

  async start(): Promise<void> {
    const prefix = `bull:${this.queueName}:`;
    this.client = new Redis(config.redisUrl);
    this.monitor = await this.client.monitor();
    this.monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!args.some((arg) => typeof arg === 'string' && arg.startsWith(prefix))) return;
      const port = Number(/:(\d+)$/.exec(source)?.[1]);
      const who = source === 'lua' ? 'lua' : (this.byPort.get(port) ?? 'other');
      let command = String(args[0]).toUpperCase();
      if (command === 'EVALSHA') command = `EVALSHA ${this.scriptNames[args[1]] ?? args[1].slice(0, 8)}`;
      this.lines.push({ source: who, command });
    });
  }

  async stop(): Promise<void> {
    this.monitor?.disconnect();
    this.client?.disconnect();
  }

  /** Commands per source ('emitter', 'worker', 'lua' …) and per command name. */
  counts(): Record<string, Record<string, number>> {
    const counts: Record<string, Record<string, number>> = {};
    for (const { source, command } of this.lines) {
      counts[source] ??= {};
      counts[source][command] = (counts[source][command] ?? 0) + 1;
    }
    return counts;
  }
}
