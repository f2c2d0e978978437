import { config } from '../config.js';
import { percentile } from '../support/stats.js';
import { awaitAcks, withStack } from '../support/stack.js';
import { type Scenario } from './common.js';

const OWNER = 'latency';

/**
 * P2: emit → receiver latency at a steady rate to one endpoint. Each event carries its emit wall-clock
 * time in `data.t`; the receiver (same host clock) subtracts it from the time the request arrived.
 * The first `warmupSeconds` of events are left out of the percentiles.
 */
export const latencyScenario: Scenario = async ({ receiver }) => {
  const { rate, seconds, warmupSeconds } = config.p2;
  const count = rate * seconds;
  return withStack(receiver, 'P2', { workers: 1 }, async (stack) => {
    await stack.createEndpoints(OWNER, ['/ok/p2/0']);
    await stack.warmUp();
    await receiver.request('reset', { latency: true });
    try {
      const acks = awaitAcks(receiver, '/ok/p2', count, (seconds + 60) * 1_000);
      const paced = await stack.emitter.request<{ achievedRate: number; emitP50: number; emitP99: number; maxInFlight: number }>('paced', {
        ownerId: OWNER,
        rate,
        count,
        bodyBytes: config.bodyBytes,
      });
      const acked = await acks;
      const { seqs, latencies } = await receiver.request<{ seqs: number[]; latencies: number[] }>('latencies', { group: '/ok/p2' });
      const measured = latencies.filter((_, i) => seqs[i] >= rate * warmupSeconds);
      const p50 = percentile(measured, 50);
      const p99 = percentile(measured, 99);
      return {
        id: 'P2',
        title: 'latency',
        figures: [
          { id: 'P2', label: `emit → receiver p50 at ${rate} events/s`, value: p50, unit: 'ms', target: { op: '<=', value: 5 } },
          { id: 'P2', label: `emit → receiver p99 at ${rate} events/s`, value: p99, unit: 'ms', target: { op: '<=', value: 50 } },
          { id: 'P2', label: '  emit() call itself, p50 (info)', value: paced.emitP50, unit: 'ms' },
          { id: 'P2', label: '  emit() call itself, p99 (info)', value: paced.emitP99, unit: 'ms' },
        ],
        details: {
          rate,
          achievedRate: paced.achievedRate,
          events: count,
          measuredEvents: measured.length,
          acknowledged: acked.unique,
          complete: acked.reached,
          p50,
          p90: percentile(measured, 90),
          p99,
          p999: percentile(measured, 99.9),
          max: percentile(measured, 100),
          emitCallP50: paced.emitP50,
          emitCallP99: paced.emitP99,
          maxEmitsInFlight: paced.maxInFlight,
        },
      };
    } finally {
      await receiver.request('reset', { latency: false });
    }
  });
};
