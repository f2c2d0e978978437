import { config } from '../config.js';
import type { Figure } from '../report.js';
import { percentile } from '../support/stats.js';
import { awaitAcks, withStack, type Receiver, type Stack } from '../support/stack.js';
import { perSecond, rateFigure, type Scenario } from './common.js';

const OWNER = 'latency';

/** A low rate measured first, as a floor: what one event costs end to end when nothing queues. */
const FLOOR_RATE = 50;
const FLOOR_SECONDS = 3;

interface LatencyRun {
  rate: number;
  achievedRate: number;
  events: number;
  measuredEvents: number;
  acknowledged: number;
  complete: boolean;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  emitCallP50: number;
  emitCallP99: number;
  maxEmitsInFlight: number;
  /** Deliveries per second the pipeline actually completed while being fed at `rate`. */
  deliveredRate: number;
}

/**
 * P2: emit → receiver latency at a steady rate to one endpoint, one `emit` per event. Each event
 * carries its emit wall-clock time in `data.t`; the receiver (same host clock) subtracts it from the
 * time the request arrived. The first `warmupSeconds` of events are left out of the percentiles.
 * Measured in the module's default deployment, one process that emits and delivers (there the
 * deliveries go straight to the local worker), there again with each emit in a transaction of its
 * own (claimed by the local worker at commit), and with the emitter and the worker in separate
 * processes (every delivery through Redis and a claim).
 */
export const latencyScenario: Scenario = async (context) => {
  const { receiver } = context;
  const { rate, seconds } = config.p2;
  const app = await withStack(receiver, 'P2', { workers: 0, emitterDelivers: true }, async (stack) => {
    await stack.createEndpoints(OWNER, ['/ok/p2/0']);
    await stack.warmUp();
    return {
      floor: await measure(receiver, stack, FLOOR_RATE, FLOOR_SECONDS),
      main: await measure(receiver, stack, rate, seconds),
      transactional: await measure(receiver, stack, rate, seconds, true),
    };
  });
  const apart = await withStack(receiver, 'P2SPLIT', { workers: 1 }, async (stack) => {
    await stack.createEndpoints(OWNER, ['/ok/p2/0']);
    await stack.warmUp();
    return {
      split: await measure(receiver, stack, rate, seconds),
      splitTransactional: await measure(receiver, stack, rate, seconds, true),
    };
  });
  const { split, splitTransactional } = apart;
  const { main, floor, transactional } = app;
  const figures: Figure[] = [
    { id: 'P2', label: `emit → receiver p50 at ${rate} events/s`, value: main.p50, unit: 'ms', target: { op: '<=', value: 5 } },
    { id: 'P2', label: `emit → receiver p99 at ${rate} events/s`, value: main.p99, unit: 'ms', target: { op: '<=', value: 50 } },
    { id: 'P2', label: `  emit() call itself at ${rate} events/s, p50 (info)`, value: main.emitCallP50, unit: 'ms' },
    rateFigure({ id: 'P2', label: `  deliveries completed per second while fed ${rate}/s (info)`, value: main.deliveredRate }),
    { id: 'P2', label: `  emit → receiver p50 at ${FLOOR_RATE} events/s (info)`, value: floor.p50, unit: 'ms' },
    { id: 'P2', label: `  emit → receiver p99 at ${FLOOR_RATE} events/s (info)`, value: floor.p99, unit: 'ms' },
    {
      id: 'P2',
      label: `  each emit in its own transaction ({ manager }): p50 at ${rate} events/s (info)`,
      value: transactional.p50,
      unit: 'ms',
    },
    {
      id: 'P2',
      label: `  each emit in its own transaction ({ manager }): p99 at ${rate} events/s (info)`,
      value: transactional.p99,
      unit: 'ms',
    },
    { id: 'P2', label: `  emitter and worker apart: p50 at ${rate} events/s (info)`, value: split.p50, unit: 'ms' },
    { id: 'P2', label: `  emitter and worker apart: p99 at ${rate} events/s (info)`, value: split.p99, unit: 'ms' },
    {
      id: 'P2',
      label: `  apart, each emit in its own transaction: p50 at ${rate} events/s (info)`,
      value: splitTransactional.p50,
      unit: 'ms',
    },
    {
      id: 'P2',
      label: `  apart, each emit in its own transaction: p99 at ${rate} events/s (info)`,
      value: splitTransactional.p99,
      unit: 'ms',
    },
  ];
  return { id: 'P2', title: 'latency', figures, details: { main, floor, transactional, split, splitTransactional } };
};

async function measure(receiver: Receiver, stack: Stack, rate: number, seconds: number, transactional = false): Promise<LatencyRun> {
  const count = rate * seconds;
  await receiver.request('reset', { latency: true });
  try {
    const acks = awaitAcks(receiver, '/ok/p2', count, (seconds + 60) * 1_000);
    const paced = await stack.emitter.request<{
      startAt: number;
      achievedRate: number;
      emitP50: number;
      emitP99: number;
      maxInFlight: number;
    }>('paced', {
      ownerId: OWNER,
      rate,
      count,
      bodyBytes: config.bodyBytes,
      transactional,
    });
    const acked = await acks;
    const { seqs, latencies } = await receiver.request<{ seqs: number[]; latencies: number[] }>('latencies', { group: '/ok/p2' });
    const measured = latencies.filter((_, i) => seqs[i] >= rate * config.p2.warmupSeconds);
    return {
      rate,
      achievedRate: paced.achievedRate,
      events: count,
      measuredEvents: measured.length,
      acknowledged: acked.unique,
      complete: acked.reached,
      p50: percentile(measured, 50),
      p90: percentile(measured, 90),
      p99: percentile(measured, 99),
      max: percentile(measured, 100),
      emitCallP50: paced.emitP50,
      emitCallP99: paced.emitP99,
      maxEmitsInFlight: paced.maxInFlight,
      deliveredRate: perSecond(acked.unique, paced.startAt, acked.reached ? acked.lastAt : acked.at),
    };
  } finally {
    await receiver.request('reset', { latency: false });
  }
}
