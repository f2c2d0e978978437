import type { EmitRun } from '../app-process.js';
import type { Figure } from '../report.js';
import { config } from '../config.js';
import type { TelemetrySetup } from '../support/telemetry-sdk.js';
import { cpuPerUnit, cpuSnapshot } from '../support/host-load.js';
import { redis } from '../support/infra.js';
import { awaitAcks, withStack } from '../support/stack.js';
import { paths, perSecond, rateFigure, type ScenarioContext } from './common.js';

const OWNER = 'throughput';

export interface ThroughputMeasurement {
  rate: number;
  dbRate: number;
  details: Record<string, unknown>;
}

/**
 * Events emitted as fast as possible (`emitMany` batches from the emitter process) to 10 endpoints
 * while `workers` worker processes deliver them (and the emitter too, with `emitterDelivers`); the
 * clock runs from the first emit to the last new 2xx the receiver sends, and every row is then checked
 * to be `succeeded` in the database.
 */
export async function measureDeliveryThroughput(
  context: ScenarioContext,
  label: string,
  topology: { workers: number; emitterDelivers?: boolean; telemetry?: TelemetrySetup },
): Promise<ThroughputMeasurement> {
  const group = label.toLowerCase();
  const { workers, emitterDelivers = false, telemetry } = topology;
  const { endpoints, deliveries } = config.p1;
  const events = Math.ceil(deliveries / endpoints);
  const expected = events * endpoints;
  return withStack(context.receiver, label, { workers, emitterDelivers, telemetry }, async (stack) => {
    await stack.createEndpoints(OWNER, paths(group, endpoints));
    await stack.warmUp();
    const acks = awaitAcks(context.receiver, `/ok/${group}`, expected, 240_000);
    // Bull's job counter moves only when a job is added: what went through Redis rather than the local hand-off.
    const jobCounter = `bull:${stack.queueName}:id`;
    const jobsBefore = Number((await redis().get(jobCounter)) ?? 0);
    const cpuBefore = cpuSnapshot();
    const burst = await stack.emitter.request<EmitRun>('burst', {
      ownerId: OWNER,
      events,
      batch: config.emitBatch,
      bodyBytes: config.bodyBytes,
    });
    const acked = await acks;
    const cpuMicrosPerDelivery = cpuPerUnit(cpuBefore, cpuSnapshot(), acked.unique);
    const redisJobs = Number((await redis().get(jobCounter)) ?? 0) - jobsBefore;
    const db = await stack.schema.waitAllSucceeded(expected + config.warmupDeliveries, 60_000);
    const end = acked.reached ? acked.lastAt : acked.at;
    const rate = perSecond(acked.unique, burst.startAt, end);
    return {
      rate,
      dbRate: db.at === null ? NaN : perSecond(expected, burst.startAt, db.at),
      details: {
        workers,
        emitterDelivers,
        events,
        deliveries: expected,
        acknowledged: acked.unique,
        complete: acked.reached,
        duplicates: acked.duplicates,
        avgBodyBytes: acked.avgBodyBytes,
        emitSeconds: (burst.endAt - burst.startAt) / 1_000,
        secondsToLastAck: (end - burst.startAt) / 1_000,
        secondsToAllRowsSucceeded: db.at === null ? null : (db.at - burst.startAt) / 1_000,
        rowsByStatus: db.counts,
        redisJobs,
        /** Each job names up to DELIVERIES_PER_JOB (50) deliveries; deferrals add jobs of their own. */
        deliveriesThroughRedisAtMost: Math.min(expected, redisJobs * 50),
        rate,
        cpuMicrosPerDelivery,
      },
    };
  });
}

/**
 * Two deployments: an emitter process and a worker process (what P7 scales out), then one process
 * that emits and delivers (`processor: true`, the default), where emits hand deliveries to the local
 * worker while it has room. The target is read on the first; the second is printed beside it.
 */
export async function p1(context: ScenarioContext) {
  const m = await measureDeliveryThroughput(context, 'P1', { workers: 1 });
  const app = await measureDeliveryThroughput(context, 'P1APP', { workers: 0, emitterDelivers: true });
  return {
    id: 'P1',
    title: 'delivery throughput',
    figures: [
      rateFigure({
        id: 'P1',
        label: `delivery throughput, ${config.p1.endpoints} endpoints, 1 worker`,
        value: m.rate,
        targetTimesL: 0.6,
      }),
      rateFigure({ id: 'P1', label: '  same, until all rows succeeded (DB)', value: m.dbRate }),
      rateFigure({ id: 'P1', label: '  one process emitting and delivering (info)', value: app.rate }),
      {
        id: 'P1',
        label: '  one process: deliveries that went through Redis, at most (info)',
        value: (100 * (app.details.deliveriesThroughRedisAtMost as number)) / (app.details.deliveries as number),
        unit: '%',
      },
    ],
    details: { ...m.details, oneProcess: app.details },
  };
}

export async function p7(context: ScenarioContext) {
  const { workers } = config.p7;
  const m = await measureDeliveryThroughput(context, 'P7', { workers });
  const single = context.results.get('P1')?.details.rate as number | undefined;
  const figures: Figure[] = [rateFigure({ id: 'P7', label: `delivery throughput, ${workers} workers`, value: m.rate })];
  if (single) {
    figures.push({
      id: 'P7',
      label: `  scale-out ratio ${workers} workers / 1 (P1)`,
      value: m.rate / single,
      unit: '×',
      note: 'on 2 cores the receiver, PostgreSQL and Redis compete with the workers',
    });
  }
  return { id: 'P7', title: 'scale-out', figures, details: { ...m.details, singleWorkerRate: single ?? null } };
}
