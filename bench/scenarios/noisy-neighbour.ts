import type { EmitRun } from '../app-process.js';
import { config } from '../config.js';
import type { Figure } from '../report.js';
import type { GroupStats } from '../receiver.js';
import { sleep } from '../support/clock.js';
import { ownerDeliveryLog, slowestDeliveries } from '../support/delivery-log.js';
import { redis } from '../support/infra.js';
import { percentile } from '../support/stats.js';
import { awaitAcks, withStack, type StackOptions } from '../support/stack.js';
import { paths, perSecond, type Scenario, type ScenarioContext } from './common.js';

const NOISY = 'noisy-f';
const QUIET = 'quiet-h';

/** The quiet owner's deliveries traced attempt by attempt, the slowest first. */
const TRACED = 5;

interface PacedRun {
  startAt: number;
  lastEmitCallAt: number;
  achievedRate: number;
  emitP99: number;
}

/** The two deployments: every delivery through Redis to a worker process, and the module's default. */
const DEPLOYMENTS = [
  { label: 'P9SPLIT', name: 'emitter and worker apart', topology: { workers: 1 } },
  { label: 'P9ONE', name: 'one process emits and delivers', topology: { workers: 0, emitterDelivers: true } },
] as const satisfies ReadonlyArray<{ label: string; name: string; topology: StackOptions }>;

/**
 * P9: owner F registers `noisyEndpoints` endpoints that never answer (`delivery.timeoutMs` 2 s) and
 * emits `noisyEvents` events, each to all of them; owner H, with one healthy endpoint, emits one
 * event every 250 ms from a second before F's burst until `quietSeconds` are over. Every H event
 * carries the time it was due (`data.t`); the receiver subtracts it from the arrival time. Figures:
 * H's latency p50 and p99, H's events delivered, and F's requests per second at the receiver from
 * its first emit to the end of the window (the last request seen once H's events are all in).
 */
export const noisyNeighbourScenario: Scenario = async (context) => {
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  for (const deployment of DEPLOYMENTS) {
    const run = await measure(context, deployment.label, deployment.topology);
    details[deployment.label === 'P9SPLIT' ? 'apart' : 'oneProcess'] = run;
    figures.push(
      { id: 'P9', label: `${deployment.name}: quiet owner H, emit → receiver p50 (info)`, value: run.quiet.p50, unit: 'ms' },
      { id: 'P9', label: `  H, emit → receiver p99`, value: run.quiet.p99, unit: 'ms', target: { op: '<=', value: 1_000 } },
      {
        id: 'P9',
        label: `  H events delivered (of ${run.quiet.emitted} emitted)`,
        value: run.quiet.delivered,
        unit: 'events',
        target: { op: '>=', value: run.quiet.emitted },
      },
      { id: 'P9', label: `  noisy owner F, requests/s at its endpoints (info)`, value: run.noisy.requestsPerSecond, unit: 'requests/s' },
    );
  }
  const { noisyEndpoints, noisyEvents, timeoutMs, quietIntervalMs, quietSeconds, leadMs } = config.p9;
  return {
    id: 'P9',
    title: 'noisy neighbour',
    figures,
    details: { noisyEndpoints, noisyEvents, timeoutMs, quietIntervalMs, quietSeconds, leadMs, concurrency: config.concurrency, ...details },
  };
};

async function measure(context: ScenarioContext, label: string, topology: StackOptions) {
  const { receiver } = context;
  const { noisyEndpoints, noisyEvents, timeoutMs, quietIntervalMs, quietSeconds, leadMs, graceSeconds } = config.p9;
  const group = label.toLowerCase();
  const quietGroup = `/ok/${group}h`;
  const noisyGroup = `/hole/${group}f`;
  const quietEvents = Math.round((quietSeconds * 1_000) / quietIntervalMs);
  return withStack(receiver, label, { ...topology, timeoutMs, maxEndpointsPerOwner: noisyEndpoints }, async (stack) => {
    await stack.createEndpoints(NOISY, paths(`${group}f`, noisyEndpoints, 'hole'));
    await stack.createEndpoints(QUIET, [`${quietGroup}/0`]);
    await stack.warmUp();
    await receiver.request('reset', { latency: true });
    // Bull's job counter moves whenever a job is added: queued deliveries, deferrals, and jobs sent back for want of room.
    const jobCounter = `bull:${stack.queueName}:id`;
    const jobsBefore = Number((await redis().get(jobCounter)) ?? 0);
    try {
      const acks = awaitAcks(receiver, quietGroup, quietEvents, (quietSeconds + graceSeconds) * 1_000);
      const quiet = stack.emitter.request<PacedRun>('paced', {
        ownerId: QUIET,
        rate: 1_000 / quietIntervalMs,
        count: quietEvents,
        bodyBytes: config.bodyBytes,
        stampScheduled: true,
      });
      quiet.catch(() => undefined);
      await sleep(leadMs);
      const burst = { ownerId: NOISY, mode: 'emit', count: noisyEvents, callers: 1, bodyBytes: config.bodyBytes };
      const noisy = await stack.emitter.request<EmitRun>('throughput', burst);
      const paced = await quiet;
      const acked = await acks;
      const noisyStats = await receiver.request<GroupStats>('stats', { group: noisyGroup });
      const redisJobsAdded = Number((await redis().get(jobCounter)) ?? 0) - jobsBefore;
      const { seqs, latencies } = await receiver.request<{ seqs: number[]; latencies: number[] }>('latencies', { group: quietGroup });
      // Events due once F's burst had begun: what the storm could delay.
      const firstDuringStorm = Math.ceil((noisy.startAt - paced.startAt) / quietIntervalMs);
      const duringStorm = latencies.filter((_, i) => seqs[i] >= firstDuringStorm);
      return {
        quiet: {
          emitted: quietEvents,
          delivered: acked.unique,
          duplicates: acked.duplicates,
          p50: percentile(latencies, 50),
          p90: percentile(latencies, 90),
          p99: percentile(latencies, 99),
          max: percentile(latencies, 100),
          duringStorm: { events: duringStorm.length, p50: percentile(duringStorm, 50), p99: percentile(duringStorm, 99) },
          /** [seq, ms] in arrival order. */
          latencies: seqs.map((seq, i) => [seq, Math.round(latencies[i] * 10) / 10]),
          emitsPerSecond: paced.achievedRate,
          emitCallP99: paced.emitP99,
          leadSeconds: (noisy.startAt - paced.startAt) / 1_000,
          deliveries: await ownerDeliveryLog(stack.schema, QUIET),
          slowest: await slowestDeliveries(stack.schema, QUIET, TRACED),
        },
        noisy: {
          endpoints: noisyEndpoints,
          events: noisyEvents,
          emitSeconds: (noisy.endAt - noisy.startAt) / 1_000,
          requests: noisyStats.requests,
          windowSeconds: (noisyStats.lastRequestAt - noisy.startAt) / 1_000,
          requestsPerSecond: noisyStats.requests === 0 ? 0 : perSecond(noisyStats.requests, noisy.startAt, noisyStats.lastRequestAt),
          deliveries: await ownerDeliveryLog(stack.schema, NOISY),
        },
        /** Bull jobs added in the window, both owners: new deliveries (up to 50 a job), deferrals, jobs sent back. */
        redisJobsAdded,
      };
    } finally {
      await receiver.request('reset'); // lets go of the hung sockets
    }
  });
}
