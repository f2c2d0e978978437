import 'reflect-metadata';
import { BullModule, getQueueToken } from '@nestjs/bull';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import type Redis from 'ioredis';
import { WebhookEndpointService, WebhookPublisher, WebhooksModule, type EmitManyItem } from 'nestjs-webhooks';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { DataSource } from 'typeorm';
import { sleep, wallNow } from './support/clock.js';
import { serve } from './support/ipc.js';
import { BENCH_EVENT_TYPE, eventData, padFor } from './support/payload.js';
import { QueryCounter } from './support/query-counter.js';
import { installTelemetrySdk, type TelemetrySetup } from './support/telemetry-sdk.js';
import { percentile } from './support/stats.js';

/**
 * One Nest application using the module the way a host would: its own TypeORM data source and Bull
 * connection, `controllers: false`. As a `worker` it runs the delivery processor and nothing else; as
 * an `emitter` (`processor: false`) it creates endpoints and emits on command, so emitting and
 * delivering never share an event loop; as an `app` it emits and delivers, the module's default.
 */

export interface AppSettings {
  role: 'worker' | 'emitter' | 'app';
  databaseUrl: string;
  redisUrl: string;
  schema: string;
  queueName: string;
  concurrency: number;
  timeoutMs?: number;
  /** `retry.schedule`; the module's default when absent. */
  retrySchedule?: number[];
  /** `maxEndpointsPerOwner`, for scenarios that register more endpoints per owner than the default allows. */
  maxEndpointsPerOwner?: number;
  /** P10: an OpenTelemetry context manager only, or the whole SDK recording metrics and spans. */
  telemetry?: TelemetrySetup;
  /** Count SQL statements (TypeORM logger); used by the profile pass only. */
  countQueries?: boolean;
  /** Sample memory every this many ms from process start (before Nest boots) until `stopSampling`. */
  sampleMs?: number;
}

export interface Sample {
  t: number;
  rss: number;
  heapUsed: number;
  poolWaiting: number;
  poolTotal: number;
}

export interface EmitRun {
  startAt: number;
  endAt: number;
  events: number;
}

const settings: AppSettings = JSON.parse(process.env.BENCH_APP ?? '{}');
const counter = settings.countQueries ? new QueryCounter() : undefined;
let dataSource: DataSource | undefined;
let samples: Sample[] = [];
let sampler: NodeJS.Timeout | undefined;

function startSampling(intervalMs: number): void {
  clearInterval(sampler);
  samples = [];
  const take = () => samples.push(sample());
  take();
  sampler = setInterval(take, intervalMs);
}

if (settings.sampleMs) startSampling(settings.sampleMs);

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: settings.databaseUrl,
      schema: settings.schema,
      synchronize: false,
      autoLoadEntities: true,
      ...(counter ? { logger: counter } : {}),
    }),
    BullModule.forRoot({ redis: settings.redisUrl }),
    WebhooksModule.forRoot({
      queueName: settings.queueName,
      controllers: false,
      processor: settings.role !== 'emitter',
      security: { allowHttp: true, allowPrivateNetworks: true },
      delivery: { concurrency: settings.concurrency, ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}) },
      ...(settings.retrySchedule ? { retry: { schedule: settings.retrySchedule } } : {}),
      ...(settings.maxEndpointsPerOwner ? { maxEndpointsPerOwner: settings.maxEndpointsPerOwner } : {}),
    }),
  ],
})
class BenchAppModule {}

async function main(): Promise<void> {
  if (settings.telemetry) installTelemetrySdk(settings.telemetry);
  const app = await NestFactory.createApplicationContext(BenchAppModule, { logger: ['error', 'warn'] });
  const publisher = app.get(WebhookPublisher);
  const endpoints = app.get(WebhookEndpointService);
  dataSource = app.get(DataSource);
  const queue = app.get<Queue>(getQueueToken(settings.queueName));
  const pad = (bodyBytes: number) => padFor(bodyBytes);

  serve(
    {
      createEndpoints: async ({ ownerId, urls, parallel = 20 }: { ownerId: string; urls: string[]; parallel?: number }) => {
        const ids: string[] = new Array(urls.length);
        let next = 0;
        const lane = async () => {
          for (let i = next++; i < urls.length; i = next++) {
            ids[i] = (await endpoints.create(ownerId, { url: urls[i], events: [BENCH_EVENT_TYPE] })).id;
          }
        };
        await Promise.all(Array.from({ length: parallel }, lane));
        return ids;
      },

      /** `events` events through `emitMany` in batches, one call after another, as fast as possible. */
      burst: async ({
        ownerId,
        events,
        batch,
        bodyBytes,
      }: {
        ownerId: string;
        events: number;
        batch: number;
        bodyBytes: number;
      }): Promise<EmitRun> => {
        const padding = pad(bodyBytes);
        const startAt = wallNow();
        for (let seq = 0; seq < events; seq += batch) {
          const items: EmitManyItem[] = [];
          for (let i = seq; i < Math.min(events, seq + batch); i++)
            items.push({ type: BENCH_EVENT_TYPE, ownerId, data: eventData(i, wallNow(), padding) });
          await publisher.emitMany(items);
        }
        return { startAt, endAt: wallNow(), events };
      },

      /**
       * Open-loop load: one `emit` every 1/rate s on schedule, whether or not earlier ones have
       * resolved, so a slow emit shows up as latency instead of silently lowering the rate. With
       * `transactional`, each emit runs in a transaction of its own (`{ manager }`). With
       * `stampScheduled`, `data.t` is the time the emit was due rather than when the call was made, so
       * an emitting process too busy to keep its schedule shows up as latency too.
       */
      paced: async ({
        ownerId,
        rate,
        count,
        bodyBytes,
        transactional = false,
        stampScheduled = false,
      }: {
        ownerId: string;
        rate: number;
        count: number;
        bodyBytes: number;
        transactional?: boolean;
        stampScheduled?: boolean;
      }) => {
        const padding = pad(bodyBytes);
        const emitMs: number[] = [];
        const running = new Set<Promise<unknown>>();
        let maxInFlight = 0;
        const interval = 1_000 / rate;
        const startAt = wallNow();
        for (let seq = 0; seq < count; seq++) {
          const due = startAt + seq * interval;
          const wait = due - wallNow();
          if (wait > 1) await sleep(wait);
          const t = wallNow();
          const data = eventData(seq, stampScheduled ? due : t, padding);
          // Transactional: each emit in a transaction of its own, as a host writing its row and the event together.
          const emit = transactional
            ? dataSource!.transaction((manager) => publisher.emit(BENCH_EVENT_TYPE, data, { ownerId, manager }))
            : publisher.emit(BENCH_EVENT_TYPE, data, { ownerId });
          const emitted: Promise<unknown> = emit.then(() => {
            emitMs.push(wallNow() - t);
            running.delete(emitted);
          });
          running.add(emitted);
          maxInFlight = Math.max(maxInFlight, running.size);
        }
        const lastEmitCallAt = wallNow();
        await Promise.all(running);
        return {
          startAt,
          lastEmitCallAt,
          achievedRate: (count - 1) / ((lastEmitCallAt - startAt) / 1_000),
          emitP50: percentile(emitMs, 50),
          emitP99: percentile(emitMs, 99),
          maxInFlight,
        };
      },

      /** `count` events by `callers` parallel callers, each awaiting its own `emit` (or `emitMany` of `batch`). */
      throughput: async ({
        ownerId,
        mode,
        count,
        batch = 1,
        callers,
        bodyBytes,
      }: {
        ownerId: string;
        mode: 'emit' | 'emitMany';
        count: number;
        batch?: number;
        callers: number;
        bodyBytes: number;
      }): Promise<EmitRun> => {
        const padding = pad(bodyBytes);
        let next = 0;
        const size = mode === 'emit' ? 1 : batch;
        const lane = async () => {
          for (let seq = next; seq < count; seq = next) {
            const end = Math.min(count, seq + size);
            next = end;
            if (mode === 'emit') {
              await publisher.emit(BENCH_EVENT_TYPE, eventData(seq, wallNow(), padding), { ownerId });
            } else {
              const items: EmitManyItem[] = [];
              for (let i = seq; i < end; i++) items.push({ type: BENCH_EVENT_TYPE, ownerId, data: eventData(i, wallNow(), padding) });
              await publisher.emitMany(items);
            }
          }
        };
        const startAt = wallNow();
        await Promise.all(Array.from({ length: callers }, lane));
        return { startAt, endAt: wallNow(), events: count };
      },

      emitOne: async ({ ownerId, bodyBytes }: { ownerId: string; bodyBytes: number }): Promise<EmitRun> => {
        const startAt = wallNow();
        await publisher.emit(BENCH_EVENT_TYPE, eventData(0, startAt, pad(bodyBytes)), { ownerId });
        return { startAt, endAt: wallNow(), events: 1 };
      },

      startSampling: ({ intervalMs }: { intervalMs: number }) => {
        startSampling(intervalMs);
        return null;
      },

      stopSampling: () => {
        clearInterval(sampler);
        samples.push(sample());
        return samples;
      },

      /** Heap after full collections; null unless the process runs with --expose-gc. */
      heapAfterGc: () => {
        const collect = (globalThis as { gc?: () => void }).gc;
        if (!collect) return null;
        collect();
        collect();
        return process.memoryUsage();
      },

      takeQueryCounts: () => counter?.take() ?? {},

      /** Local ports of this process's Redis connections, to attribute MONITOR lines to it. */
      redisPorts: () =>
        (queue.clients as Redis[])
          .map((client) => (client as unknown as { stream?: { localPort?: number } }).stream?.localPort)
          .filter(Boolean),

      /** Starts V8's sampling profiler in this process (the window `profileStop` ends). */
      profileStart: async () => {
        profiler ??= new Session();
        profiler.connect();
        await post(profiler, 'Profiler.enable');
        await post(profiler, 'Profiler.start');
        return null;
      },

      /** Stops the profiler and writes a `.cpuprofile` (Chrome DevTools can open it). */
      profileStop: async ({ file }: { file: string }) => {
        if (!profiler) throw new Error('profileStart was not called');
        const { profile } = await post<{ profile: object }>(profiler, 'Profiler.stop');
        profiler.disconnect();
        profiler = undefined;
        writeFileSync(file, JSON.stringify(profile));
        return file;
      },

      /** Bull's Lua scripts by SHA1, to name the EVALSHA lines of a MONITOR capture. */
      scriptNames: () => {
        const names: Record<string, string> = {};
        for (const client of queue.clients as unknown as Array<{ scriptsSet?: Record<string, { sha: string }> }>) {
          for (const [name, script] of Object.entries(client.scriptsSet ?? {})) names[script.sha] = name;
        }
        return names;
      },

      close: async () => {
        clearInterval(sampler);
        await closeWithin(app, 3_000);
        setImmediate(() => process.exit(0));
        return null;
      },
    },
    { pid: process.pid, readyAt: wallNow() },
  );
}

let profiler: Session | undefined;

function post<T = unknown>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result as T))));
}

function sample(): Sample {
  const memory = process.memoryUsage();
  const pool = (dataSource?.driver as unknown as { master?: { waitingCount?: number; totalCount?: number } } | undefined)?.master;
  return {
    t: wallNow(),
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    poolWaiting: pool?.waitingCount ?? 0,
    poolTotal: pool?.totalCount ?? 0,
  };
}

/** Graceful close, bounded: a worker still waiting on black-holed requests is not worth waiting for. */
async function closeWithin(app: INestApplicationContext, ms: number): Promise<void> {
  await Promise.race([app.close().catch(() => undefined), sleep(ms)]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
