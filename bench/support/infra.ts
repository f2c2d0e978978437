import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem, release, platform } from 'node:os';
import Redis from 'ioredis';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nestjs-webhooks';
import { DataSource } from 'typeorm';
import { config } from '../config.js';
import { sleep, wallNow } from './clock.js';

/** Schemas and queues this run created and has not removed yet, for cleanup after an interruption. */
export const leftovers = { schemas: new Set<string>(), queues: new Set<string>() };

export async function removeLeftovers(): Promise<void> {
  for (const queue of leftovers.queues) await deleteQueueKeys(queue).catch(() => undefined);
  for (const schema of leftovers.schemas) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
}

/** A private PostgreSQL schema with the module's tables, created by its own migrations. */
export class BenchSchema {
  private constructor(
    readonly name: string,
    readonly dataSource: DataSource,
  ) {}

  static async create(label: string): Promise<BenchSchema> {
    const name = `bench_${label.toLowerCase()}_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE SCHEMA "${name}"`);
    leftovers.schemas.add(name);
    const dataSource = new DataSource({
      type: 'postgres',
      url: config.databaseUrl,
      schema: name,
      entities: WEBHOOK_ENTITIES,
      migrations: WEBHOOK_MIGRATIONS,
      migrationsRun: true,
      poolSize: 2,
    });
    await dataSource.initialize();
    return new BenchSchema(name, dataSource);
  }

  async statusCounts(): Promise<Record<string, number>> {
    const rows: Array<{ status: string; count: string }> = await this.dataSource.query(
      `SELECT status, count(*) AS count FROM "${this.name}".webhook_deliveries GROUP BY status`,
    );
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  async count(table: 'webhook_events' | 'webhook_deliveries' | 'webhook_delivery_attempts'): Promise<number> {
    const [row] = await this.dataSource.query(`SELECT count(*) AS count FROM "${this.name}".${table}`);
    return Number(row.count);
  }

  /** Polls until every delivery row is `succeeded` (at least `expected` of them); the wall-clock time it saw that, or null. */
  async waitAllSucceeded(expected: number, timeoutMs: number, pollMs = 50): Promise<{ at: number | null; counts: Record<string, number> }> {
    const deadline = wallNow() + timeoutMs;
    let counts: Record<string, number> = {};
    while (wallNow() < deadline) {
      counts = await this.statusCounts();
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      if ((counts.succeeded ?? 0) === total && total >= expected) return { at: wallNow(), counts };
      await sleep(pollMs);
    }
    return { at: null, counts };
  }

  async truncate(): Promise<void> {
    await this.dataSource.query(
      `TRUNCATE "${this.name}".webhook_delivery_attempts, "${this.name}".webhook_deliveries, "${this.name}".webhook_events`,
    );
  }

  async drop(): Promise<void> {
    await this.dataSource.destroy().catch(() => undefined);
    await adminQuery(`DROP SCHEMA IF EXISTS "${this.name}" CASCADE`);
    leftovers.schemas.delete(this.name);
  }
}

let admin: DataSource | undefined;

export async function adminQuery(sql: string): Promise<any> {
  if (!admin) admin = await new DataSource({ type: 'postgres', url: config.databaseUrl, poolSize: 1 }).initialize();
  return admin.query(sql);
}

export async function closeAdmin(): Promise<void> {
  await admin?.destroy();
  admin = undefined;
}

let redisClient: Redis | undefined;

export function redis(): Redis {
  redisClient ??= new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  return redisClient;
}

export function closeRedis(): void {
  redisClient?.disconnect();
  redisClient = undefined;
}

/** Every key Bull keeps for `queueName`, and nothing else. */
export async function queueKeys(queueName: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis().scan(cursor, 'MATCH', `bull:${queueName}:*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

export async function deleteQueueKeys(queueName: string): Promise<number> {
  const keys = await queueKeys(queueName);
  for (let i = 0; i < keys.length; i += 500) await redis().del(...keys.slice(i, i + 500));
  return keys.length;
}

/** Deletes the queue's keys for good: once its processes are gone. */
export async function removeQueue(queueName: string): Promise<void> {
  await deleteQueueKeys(queueName);
  leftovers.queues.delete(queueName);
}

/** `used_memory` from `INFO memory`, in bytes. */
export async function redisUsedMemory(): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis().info('memory'))?.[1]);
}

/** Sum of `MEMORY USAGE` over the queue's keys: the same figure, immune to other Redis tenants. */
export async function queueMemoryUsage(queueName: string): Promise<{ keys: number; bytes: number }> {
  const keys = await queueKeys(queueName);
  let bytes = 0;
  for (let i = 0; i < keys.length; i += 200) {
    const pipeline = redis().pipeline();
    for (const key of keys.slice(i, i + 200)) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    for (const [, value] of (await pipeline.exec()) ?? []) bytes += Number(value ?? 0);
  }
  return { keys: keys.length, bytes };
}

/** `INFO commandstats` as calls per command (including those run inside Lua scripts). */
export async function redisCommandStats(): Promise<Record<string, number>> {
  const stats: Record<string, number> = {};
  for (const line of (await redis().info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) stats[match[1]] = Number(match[2]);
  }
  return stats;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  redis: string;
  commit: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  const settings: Record<string, string> = {};
  for (const name of ['synchronous_commit', 'fsync', 'shared_buffers', 'max_connections']) {
    const [row] = await adminQuery(`SHOW ${name}`);
    settings[name] = row[name];
  }
  const [pg] = await adminQuery('SHOW server_version');
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // not a git checkout
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    postgres: pg.server_version,
    postgresSettings: settings,
    redis: /redis_version:(\S+)/.exec(await redis().info('server'))?.[1] ?? 'unknown',
    commit,
  };
}
