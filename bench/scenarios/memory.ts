import type { EmitRun, Sample } from '../app-process.js';
import { config } from '../config.js';
import { sleep } from '../support/clock.js';
import { queueMemoryUsage, redis, redisUsedMemory } from '../support/infra.js';
import { leastSquaresSlope, median } from '../support/stats.js';
import { awaitAcks, withStack } from '../support/stack.js';
import { paths, perSecond, rateFigure, type Scenario } from './common.js';

const OWNER = 'memory';
const MiB = 2 ** 20;

/** Points of the drain (share of the backlog delivered) where the worker is measured after a full GC. */
const CHECKPOINTS = [0.2, 0.4, 0.6, 0.8];

/**
 * P6: Redis bytes per queued delivery with a backlog built while no worker runs, then one worker's
 * memory while it drains that backlog. "Flat, no growth with backlog size" is judged on the memory
 * the worker keeps: measured after a full GC at 80 %, 60 %, 40 %, 20 % and 0 % of the backlog still
 * queued, anything held per queued delivery would make the first point the highest, anything held
 * per delivery sent the last. RSS is printed beside it (after the same GCs, and sampled every 250 ms
 * as a trend and as two quarters) but swings by 10-20 % between GC cycles and with native buffers,
 * which decides any RSS criterion at 10 % either way (see bench/README.md).
 * A worker is started and stopped once before the backlog is built,
 * as in production where workers ran before the backlog piled up; without that, the first worker's
 * reconciler finds no epoch marker and re-queues every pending row a second time (see the report).
 */
export const memoryScenario: Scenario = async (context) => {
  const { endpoints, deliveries, rssSampleMs } = config.p6;
  const events = Math.ceil(deliveries / endpoints);
  const expected = events * endpoints;
  // --expose-gc makes gc() callable: before the backlog, at the checkpoints (a pause of some tens of
  // ms, so the drain rate printed is a little low) and after the drain.
  const options = { workers: 1, workerExecArgv: () => ['--expose-gc'] };
  return withStack(context.receiver, 'P6', options, async (stack) => {
    await stack.createEndpoints(OWNER, paths('p6', endpoints));
    await stack.warmUp();
    const warmHeap = await stack.workers[0].request<NodeJS.MemoryUsage | null>('heapAfterGc');
    await stack.stopWorkers();

    const waitingBefore = await redis().llen(`bull:${stack.queueName}:wait`);
    const before = await redisUsedMemory();
    const burst = await stack.emitter.request<EmitRun>('burst', {
      ownerId: OWNER,
      events,
      batch: config.emitBatch,
      bodyBytes: config.bodyBytes,
    });
    await sleep(200); // let Redis settle lazily freed memory
    const after = await redisUsedMemory();
    const jobs = (await redis().llen(`bull:${stack.queueName}:wait`)) - waitingBefore;
    const queue = await queueMemoryUsage(stack.queueName);
    const bytesPerDelivery = (after - before) / expected;

    const acks = awaitAcks(context.receiver, '/ok/p6', expected, 280_000);
    await stack.startWorkers(1, { sampleMs: rssSampleMs });
    const [worker] = stack.workers;
    const checkpoints: Array<{ queued: number; rss: number; heapUsed: number }> = [];
    for (const share of CHECKPOINTS) {
      const reached = await awaitAcks(context.receiver, '/ok/p6', Math.round(expected * share), 280_000);
      if (!reached.reached) break; // the drain stalled: the full wait below reports it, once
      const memory = await worker.request<NodeJS.MemoryUsage | null>('heapAfterGc');
      if (memory) checkpoints.push({ queued: expected - reached.unique, rss: memory.rss, heapUsed: memory.heapUsed });
    }
    const acked = await acks;
    const all = await worker.request<Sample[]>('stopSampling');
    const drainEnd = acked.reached ? acked.lastAt : acked.at;
    // Deliveries start while Nest is still bootstrapping; RSS is read from the boot's end.
    const drainStart = acked.firstAt;
    const samples = all.filter((s) => s.t >= worker.ready.readyAt);
    const rss = samples.map((s) => s.rss);
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const early = median(rss.slice(quarter, 2 * quarter));
    const late = median(rss.slice(-quarter));
    const growth = late / early - 1;
    const tail = samples.slice(quarter);
    const trend = leastSquaresSlope(tail.map((s) => [s.t, s.rss])) * (tail[tail.length - 1].t - tail[0].t);
    const meanRss = tail.reduce((sum, s) => sum + s.rss, 0) / tail.length;
    const afterDrain = await redisUsedMemory();
    const drainedHeap = await worker.request<NodeJS.MemoryUsage | null>('heapAfterGc');
    if (drainedHeap) checkpoints.push({ queued: 0, rss: drainedHeap.rss, heapUsed: drainedHeap.heapUsed });
    const spread = (values: number[]) => (values.length > 1 ? Math.max(...values) / Math.min(...values) - 1 : NaN);
    const retainedPerDelivery = warmHeap && drainedHeap ? (drainedHeap.heapUsed - warmHeap.heapUsed) / acked.unique : NaN;
    return {
      id: 'P6',
      title: 'memory',
      figures: [
        {
          id: 'P6',
          label: `Redis bytes per queued delivery (${expected.toLocaleString('en-US')} backlog)`,
          value: bytesPerDelivery,
          unit: 'B',
          target: { op: '<=', value: 300 },
        },
        { id: 'P6', label: '  same, from MEMORY USAGE of the queue keys (info)', value: queue.bytes / expected, unit: 'B' },
        { id: 'P6', label: '  worker RSS at drain start (info)', value: rss[0] / MiB, unit: 'MiB' },
        { id: 'P6', label: '  worker RSS peak while draining (info)', value: Math.max(...rss) / MiB, unit: 'MiB' },
        { id: 'P6', label: '  worker RSS at drain end (info)', value: rss[rss.length - 1] / MiB, unit: 'MiB' },
        {
          id: 'P6',
          label: 'worker memory kept (heap after full GC), 80 % → 0 % queued, max ÷ min − 1',
          value: spread(checkpoints.map((c) => c.heapUsed)) * 100,
          unit: '%',
          target: { op: '<=', value: 10 },
        },
        {
          id: 'P6',
          label: '  RSS after full GC at the same points, max ÷ min − 1 (info)',
          value: spread(checkpoints.map((c) => c.rss)) * 100,
          unit: '%',
        },
        { id: 'P6', label: '  RSS sampled: trend over the last 3 quarters ÷ mean (info)', value: (trend / meanRss) * 100, unit: '%' },
        { id: 'P6', label: '  RSS sampled: last vs second quarter of drain (info)', value: growth * 100, unit: '%' },
        { id: 'P6', label: '  heap retained per delivery after full GC (info)', value: retainedPerDelivery, unit: 'B' },
        rateFigure({ id: 'P6', label: '  drain rate of the backlog (info)', value: perSecond(acked.unique, drainStart, drainEnd) }),
      ],
      details: {
        deliveries: expected,
        jobs,
        deliveriesPerJob: expected / jobs,
        redisUsedMemoryBefore: before,
        redisUsedMemoryAfter: after,
        redisUsedMemoryAfterDrain: afterDrain,
        queueKeys: queue.keys,
        queueKeyBytes: queue.bytes,
        emitSeconds: (burst.endAt - burst.startAt) / 1_000,
        drainComplete: acked.reached,
        drainSeconds: (drainEnd - drainStart) / 1_000,
        rssBeforeBootMiB: all[0].rss / MiB,
        rssStartMiB: rss[0] / MiB,
        rssPeakMiB: Math.max(...rss) / MiB,
        rssEndMiB: rss[rss.length - 1] / MiB,
        rssGrowthPercent: growth * 100,
        rssTrendMiB: trend / MiB,
        rssTrendPercentOfMean: (trend / meanRss) * 100,
        afterGcCheckpoints: checkpoints.map((c) => ({
          queued: c.queued,
          rssMiB: +(c.rss / MiB).toFixed(1),
          heapMiB: +(c.heapUsed / MiB).toFixed(1),
        })),
        heapAfterGcWarmWorkerMiB: warmHeap ? warmHeap.heapUsed / MiB : null,
        heapAfterGcDrainedWorkerMiB: drainedHeap ? drainedHeap.heapUsed / MiB : null,
        maxPoolWaiting: Math.max(...samples.map((s) => s.poolWaiting)),
        samples: all.map((s) => ({
          t: Math.round(s.t - drainStart),
          rssMiB: +(s.rss / MiB).toFixed(1),
          heapMiB: +(s.heapUsed / MiB).toFixed(1),
          poolWaiting: s.poolWaiting,
        })),
      },
    };
  });
};
