import type { EmitRun } from '../app-process.js';
import { config } from '../config.js';
import { awaitAcks, withStack } from '../support/stack.js';
import { paths, perSecond, rateFigure, type Scenario, type ScenarioContext } from './common.js';

const OWNER = 'isolation';

interface IsolationRun {
  healthyRate: number;
  healthyAcked: number;
  healthyExpected: number;
  complete: boolean;
  seconds: number;
  blackHoledRequests: number;
}

/**
 * P5: 20 endpoints, every event to all of them. Run A: all answer. Run B: half never answer (the
 * receiver reads the request and keeps the socket open), with `delivery.timeoutMs` = 5 s. The figure
 * is the throughput of the same 10 healthy endpoints in B relative to A. Run B is cut off at a
 * deadline; healthy throughput is then what arrived divided by the time elapsed.
 */
export const isolationScenario: Scenario = async (context) => {
  const a = await run(context, 'P5A', false);
  const b = await run(context, 'P5B', true);
  const { timeoutMs } = config.p5;
  return {
    id: 'P5',
    title: 'isolation',
    figures: [
      rateFigure({ id: 'P5', label: '  healthy endpoints, all 20 healthy (A)', value: a.healthyRate }),
      rateFigure({ id: 'P5', label: `  healthy endpoints, 10 black-holed (B, timeout ${timeoutMs / 1_000} s)`, value: b.healthyRate }),
      {
        id: 'P5',
        label: 'isolation: healthy throughput B / A',
        value: b.healthyRate / a.healthyRate,
        unit: '×',
        target: { op: '>=', value: 0.8 },
      },
    ],
    details: { timeoutMs, deadlineSeconds: config.p5.deadlineSeconds, allHealthy: a, halfBlackHoled: b },
  };
};

async function run(context: ScenarioContext, label: string, blackHole: boolean): Promise<IsolationRun> {
  const { endpoints, deliveries, timeoutMs, deadlineSeconds } = config.p5;
  const group = label.toLowerCase();
  const half = endpoints / 2;
  const events = Math.ceil(deliveries / endpoints);
  const healthyExpected = events * half;
  return withStack(context.receiver, label, { workers: 1, timeoutMs }, async (stack) => {
    await stack.createEndpoints(OWNER, [...paths(`${group}h`, half), ...paths(`${group}x`, half, blackHole ? 'hole' : 'ok')]);
    await stack.warmUp();
    const acks = awaitAcks(context.receiver, `/ok/${group}h`, healthyExpected, deadlineSeconds * 1_000);
    const burst = await stack.emitter.request<EmitRun>('burst', {
      ownerId: OWNER,
      events,
      batch: config.emitBatch,
      bodyBytes: config.bodyBytes,
    });
    const acked = await acks;
    const end = acked.reached ? acked.lastAt : acked.at;
    const other = await context.receiver.request<{ requests: number }>('stats', { group: `/${blackHole ? 'hole' : 'ok'}/${group}x` });
    await context.receiver.request('reset'); // lets go of black-holed sockets
    return {
      healthyRate: perSecond(acked.unique, burst.startAt, end),
      healthyAcked: acked.unique,
      healthyExpected,
      complete: acked.reached,
      seconds: (end - burst.startAt) / 1_000,
      blackHoledRequests: blackHole ? other.requests : 0,
    };
  });
}
