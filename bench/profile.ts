import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmitRun, Sample } from './app-process.js';
import { config } from './config.js';
import { wallNow } from './support/clock.js';
import { summariseProfile, type ProfileSummary } from './support/cpu-profile.js';
import { machineInfo, redisCommandStats } from './support/infra.js';
import { Child } from './support/ipc.js';
import { RedisMonitor } from './support/redis-monitor.js';
import { awaitAcks, withStack, type AppChild, type Receiver, type Stack } from './support/stack.js';

/**
 * `npm run bench -- --profile`: where the time goes. Runs the P1 path (emitMany → 10 endpoints), the
 * single-event path (one event per `emit`, as in P2) and P3 (emit only), and for each measured window
 * records SQL statements per delivery (TypeORM logger in every app process), Redis commands per
 * delivery (MONITOR, split into what each process sent and what Bull's Lua scripts ran) and a V8 CPU
 * profile of the process doing the work. Counting and profiling slow things down, so no throughput
 * figure is taken from this mode.
 */

const PROFILES = join(__dirname, '..', 'results', 'profiles');
const RESULTS = join(__dirname, '..', 'results', 'profile.json');
const RECEIVER_SCRIPT = join(__dirname, 'receiver.js');

type Counts = Record<string, number>;

interface CountedWindow {
  units: number;
  unit: string;
  seconds: number;
  sqlPerUnit: Record<string, Counts & { total: number }>;
  redisPerUnit: Record<string, Counts & { total: number }>;
  /** `INFO commandstats` delta for the whole server (includes other tenants, if any), per unit. */
  serverCommandsPerUnit: number;
  pool?: { maxWaiting: number; meanWaiting: number };
  profiles: ProfileSummary[];
}

export async function runProfile(): Promise<void> {
  const started = wallNow();
  rmSync(PROFILES, { recursive: true, force: true });
  mkdirSync(PROFILES, { recursive: true });
  const machine = await machineInfo();
  const receiver = await Child.start<Receiver['ready']>(RECEIVER_SCRIPT, { name: 'receiver' });
  const windows: Record<string, CountedWindow> = {};
  try {
    windows.batchPath = await batchPath(receiver);
    windows.singleEventPath = await singleEventPath(receiver);
    windows.emitOnly = await emitOnly(receiver, 'emit');
    windows.emitManyOnly = await emitOnly(receiver, 'emitMany');
  } finally {
    await receiver.stop();
  }
  for (const [name, window] of Object.entries(windows)) print(name, window);
  writeFileSync(RESULTS, JSON.stringify({ generatedAt: new Date().toISOString(), machine, config, windows }, null, 2) + '\n');
  console.log(
    `\nprofile pass took ${((wallNow() - started) / 1_000).toFixed(1)} s; ` +
      'counts in bench/results/profile.json, .cpuprofile files in bench/results/profiles/',
  );
}

/** P1's path: 10 endpoints, events through `emitMany` batches, so jobs carry 50 delivery ids. */
async function batchPath(receiver: Receiver): Promise<CountedWindow> {
  const deliveries = Math.max(2_000, Math.round(10_000 * config.scale));
  return withStack(receiver, 'PROF1', { workers: 1, countQueries: true }, async (stack) => {
    await stack.createEndpoints(
      'prof',
      Array.from({ length: 10 }, (_, i) => `/ok/prof1/${i}`),
    );
    await stack.warmUp();
    return counted(stack, 'delivery', [stack.workers[0]], async () => {
      const acks = awaitAcks(receiver, '/ok/prof1', deliveries, 120_000);
      await stack.emitter.request<EmitRun>('burst', {
        ownerId: 'prof',
        events: deliveries / 10,
        batch: config.emitBatch,
        bodyBytes: config.bodyBytes,
      });
      await settle(stack, await acks, deliveries);
      return deliveries;
    });
  });
}

/** One event per `emit` call to one endpoint (P2's path): every job carries a single delivery id. */
async function singleEventPath(receiver: Receiver): Promise<CountedWindow> {
  const deliveries = Math.max(500, Math.round(2_000 * config.scale));
  return withStack(receiver, 'PROF2', { workers: 1, countQueries: true }, async (stack) => {
    await stack.createEndpoints('prof', ['/ok/prof2/0']);
    await stack.warmUp();
    return counted(stack, 'delivery', [stack.workers[0], stack.emitter], async () => {
      const acks = awaitAcks(receiver, '/ok/prof2', deliveries, 120_000);
      await stack.emitter.request<EmitRun>('throughput', {
        ownerId: 'prof',
        mode: 'emit',
        count: deliveries,
        callers: config.p3.callers,
        bodyBytes: config.bodyBytes,
      });
      await settle(stack, await acks, deliveries);
      return deliveries;
    });
  });
}

/** P3: emitting with no worker, one event per call or `emitMany` batches, to one endpoint. */
async function emitOnly(receiver: Receiver, mode: 'emit' | 'emitMany'): Promise<CountedWindow> {
  const events = mode === 'emit' ? Math.max(1_000, Math.round(4_000 * config.scale)) : Math.max(5_000, Math.round(30_000 * config.scale));
  const label = mode === 'emit' ? 'PROF3' : 'PROF4';
  return withStack(receiver, label, { workers: 0, countQueries: true }, async (stack) => {
    await stack.createEndpoints('prof', [`/ok/${label.toLowerCase()}/0`]);
    const run = (count: number) =>
      stack.emitter.request<EmitRun>('throughput', {
        ownerId: 'prof',
        mode,
        count,
        batch: config.emitBatch,
        callers: config.p3.callers,
        bodyBytes: config.bodyBytes,
      });
    await run(Math.min(1_000, events)); // warm-up
    return counted(stack, 'event', [stack.emitter], async () => {
      await run(events);
      return events;
    });
  });
}

async function settle(stack: Stack, acked: { reached: boolean; unique: number }, expected: number): Promise<void> {
  if (!acked.reached) throw new Error(`${stack.label}: only ${acked.unique}/${expected} deliveries acknowledged`);
  const db = await stack.schema.waitAllSucceeded(expected, 60_000);
  if (db.at === null) throw new Error(`${stack.label}: rows not all succeeded: ${JSON.stringify(db.counts)}`);
}

/** Runs `work` with every counter and the CPU profiler of `profiled` on; results per unit of work. */
async function counted(stack: Stack, unit: string, profiled: AppChild[], work: () => Promise<number>): Promise<CountedWindow> {
  const apps: Array<[string, AppChild]> = [
    ['emitter', stack.emitter],
    ...stack.workers.map((w, i): [string, AppChild] => [`worker${stack.workers.length > 1 ? i + 1 : ''}`, w]),
  ];
  const names = Object.assign({}, ...(await Promise.all(apps.map(([, app]) => app.request<Record<string, string>>('scriptNames')))));
  const monitor = new RedisMonitor(stack.queueName, names);
  for (const [name, app] of apps) monitor.attribute(await app.request<number[]>('redisPorts'), name);
  for (const [, app] of apps) await app.request('takeQueryCounts');
  for (const worker of stack.workers) await worker.request('startSampling', { intervalMs: 100 });
  await monitor.start();
  const statsBefore = await redisCommandStats();
  for (const app of profiled) await app.request('profileStart');
  const started = wallNow();
  const units = await work();
  const seconds = (wallNow() - started) / 1_000;
  const files: string[] = [];
  for (const app of profiled) {
    const role = apps.find(([, a]) => a === app)![0];
    files.push(await app.request<string>('profileStop', { file: join(PROFILES, `${stack.label.toLowerCase()}-${role}.cpuprofile`) }));
  }
  const statsAfter = await redisCommandStats();
  await monitor.stop();
  const sqlPerUnit: CountedWindow['sqlPerUnit'] = {};
  for (const [name, app] of apps) sqlPerUnit[name] = perUnit(await app.request<Counts>('takeQueryCounts'), units);
  const redisPerUnit: CountedWindow['redisPerUnit'] = {};
  for (const [source, counts] of Object.entries(monitor.counts())) redisPerUnit[source] = perUnit(counts, units);
  const serverCommands = Object.entries(statsAfter).reduce((sum, [name, calls]) => sum + calls - (statsBefore[name] ?? 0), 0);
  let pool: CountedWindow['pool'];
  if (stack.workers.length > 0) {
    const samples = (await Promise.all(stack.workers.map((w) => w.request<Sample[]>('stopSampling')))).flat();
    pool = {
      maxWaiting: Math.max(...samples.map((s) => s.poolWaiting)),
      meanWaiting: samples.reduce((a, s) => a + s.poolWaiting, 0) / samples.length,
    };
  }
  return {
    units,
    unit,
    seconds,
    sqlPerUnit,
    redisPerUnit,
    serverCommandsPerUnit: serverCommands / units,
    pool,
    profiles: files.map((file) => summariseProfile(file)),
  };
}

function perUnit(counts: Counts, units: number): Counts & { total: number } {
  const result: Counts = {};
  let total = 0;
  for (const [key, n] of Object.entries(counts)) {
    result[key] = round3(n / units);
    total += n;
  }
  return { total: round3(total / units), ...result };
}

function round3(value: number): number {
  return Math.round(value * 1_000) / 1_000;
}

function print(name: string, w: CountedWindow): void {
  console.log(
    `\n=== ${name}: ${w.units} ${w.unit === 'delivery' ? 'deliveries' : `${w.unit}s`} in ${w.seconds.toFixed(1)} s ` +
      '(with counting and profiling on) ===',
  );
  for (const [process, counts] of Object.entries(w.sqlPerUnit)) {
    if (counts.total === 0) continue;
    console.log(`SQL per ${w.unit}, ${process}: ${formatCounts(counts)}`);
  }
  for (const [source, counts] of Object.entries(w.redisPerUnit)) {
    console.log(`Redis per ${w.unit}, ${source === 'lua' ? 'inside Lua scripts' : `sent by ${source}`}: ${formatCounts(counts)}`);
  }
  console.log(`Redis server commands per ${w.unit} (INFO commandstats delta, whole server): ${w.serverCommandsPerUnit.toFixed(2)}`);
  if (w.pool)
    console.log(`worker pg pool: waiting requests mean ${w.pool.meanWaiting.toFixed(1)}, max ${w.pool.maxWaiting} (pool size 10)`);
  for (const profile of w.profiles) {
    console.log(
      `CPU profile ${profile.file.replace(/^.*\/bench\//, 'bench/')}: busy ${profile.busyMs} ms of ${profile.sampledMs} ms sampled`,
    );
    console.log(
      `  by owner (nearest library on the stack): ${profile.byOwner
        .slice(0, 10)
        .map((a) => `${a.owner} ${a.share}%`)
        .join(', ')}`,
    );
    console.log(
      `  by area: ${profile.byArea
        .slice(0, 12)
        .map((a) => `${a.area} ${a.share}%`)
        .join(', ')}`,
    );
    console.log('  top self time:');
    for (const f of profile.topSelf.slice(0, 12)) console.log(`    ${String(f.share).padStart(5)}%  ${f.fn}  [${f.area}]`);
    console.log('  module functions, inclusive synchronous time:');
    for (const f of profile.libraryInclusive.slice(0, 8)) console.log(`    ${String(f.share).padStart(5)}%  ${f.fn}`);
  }
}

function formatCounts(counts: Counts & { total: number }): string {
  const { total, ...rest } = counts;
  return `${total} total (${Object.entries(rest)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')})`;
}
