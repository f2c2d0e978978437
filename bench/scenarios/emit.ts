import type { EmitRun } from '../app-process.js';
import { config } from '../config.js';
import { deleteQueueKeys, redis } from '../support/infra.js';
import { withStack, type Stack } from '../support/stack.js';
import { perSecond, type Scenario } from './common.js';

const OWNER = 'emit';

/**
 * P3: durable events per second with the worker off (`processor: false`), so only emitting is timed:
 * `emit` resolves after the transaction commits and the jobs are in Redis. Each run starts from empty
 * tables and an empty queue, and its rows are counted afterwards.
 */
export const emitScenario: Scenario = async ({ receiver }) => {
  const { callers, emitCount, serialCount, manyCount, endpoints } = config.p3;
  return withStack(receiver, 'P3', { workers: 0 }, async (stack) => {
    await stack.createEndpoints(
      OWNER,
      Array.from({ length: endpoints }, (_, i) => `/ok/p3/${i}`),
    );
    // Warm the emitter's JIT and pool; nothing is delivered (no worker).
    await run(stack, 'emit', Math.min(500, emitCount), callers);
    const serial = await run(stack, 'emit', serialCount, 1);
    const single = await run(stack, 'emit', emitCount, callers);
    const many = await run(stack, 'emitMany', manyCount, callers);
    return {
      id: 'P3',
      title: 'emit throughput',
      figures: [
        {
          id: 'P3',
          label: `emit, one event per call, ${callers} callers`,
          value: single.rate,
          unit: 'events/s',
          target: { op: '>=', value: 1_500 },
        },
        {
          id: 'P3',
          label: `emitMany, ${config.emitBatch} per call, ${callers} callers`,
          value: many.rate,
          unit: 'events/s',
          target: { op: '>=', value: 5_000 },
        },
        { id: 'P3', label: '  emit, one caller awaiting each (info)', value: serial.rate, unit: 'events/s' },
      ],
      details: { endpointsPerEvent: endpoints, callers, batch: config.emitBatch, serial, single, many },
    };
  });
};

async function run(stack: Stack, mode: 'emit' | 'emitMany', count: number, callers: number) {
  await stack.schema.truncate();
  await deleteQueueKeys(stack.queueName);
  const result = await stack.emitter.request<EmitRun>('throughput', {
    ownerId: OWNER,
    mode,
    count,
    batch: config.emitBatch,
    callers,
    bodyBytes: config.bodyBytes,
  });
  const [events, deliveries, jobs] = await Promise.all([
    stack.schema.count('webhook_events'),
    stack.schema.count('webhook_deliveries'),
    redis().llen(`bull:${stack.queueName}:wait`),
  ]);
  if (events !== count) throw new Error(`P3 ${mode}: ${events} events stored for ${count} emitted`);
  return {
    mode,
    count,
    callers,
    seconds: (result.endAt - result.startAt) / 1_000,
    rate: perSecond(count, result.startAt, result.endAt),
    deliveries,
    jobsQueued: jobs,
  };
}
