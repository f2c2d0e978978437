import { join } from 'node:path';
import { config } from '../config.js';
import type { LimitRun } from '../limit.js';
import { cpuPerUnit, cpuSnapshot } from '../support/host-load.js';
import { Child } from '../support/ipc.js';
import { awaitAcks, receiverUrl } from '../support/stack.js';
import { paths, perSecond, type Scenario } from './common.js';

const LIMIT_SCRIPT = join(__dirname, '..', 'limit.js');

/**
 * Short runs of L, of which the best counts: L is a capability, and on a shared host another
 * process can only lower it, so the best run is the least disturbed one (ratios become conservative).
 */
const ROUNDS = 3;

/**
 * L: the bare signed keep-alive loop against the same receiver, same concurrency, same body size.
 * Measured first (`L`, the figure ratios use) and again last (`L2`) to show how much the host drifted.
 */
export const limitScenario =
  (id: 'L' | 'L2'): Scenario =>
  async ({ receiver }) => {
    const limit = await Child.start(LIMIT_SCRIPT, { name: 'limit loop' });
    try {
      const common = { concurrency: config.concurrency, bodyBytes: config.bodyBytes };
      const urls = (group: string) => paths(group, 10).map((path) => receiverUrl(receiver, path));
      await limit.request<LimitRun>('run', { ...common, urls: urls('lwarm'), count: config.warmupDeliveries, label: 'lwarm' });
      const count = config.limitRequests;
      const runs = [];
      for (let r = 1; r <= ROUNDS; r++) {
        const group = `${id.toLowerCase()}r${r}`;
        const acks = awaitAcks(receiver, `/ok/${group}`, count, 120_000);
        const cpuBefore = cpuSnapshot();
        const run = await limit.request<LimitRun>('run', { ...common, urls: urls(group), count, label: group });
        const acked = await acks;
        const cpuMicrosPerDelivery = cpuPerUnit(cpuBefore, cpuSnapshot(), count);
        if (!acked.reached || run.failed > 0) throw new Error(`${id}: ${acked.unique}/${count} acknowledged, ${run.failed} failed`);
        runs.push({
          receiverRate: perSecond(count, run.startAt, acked.lastAt),
          clientRate: perSecond(run.completed, run.startAt, run.endAt),
          avgBodyBytes: acked.avgBodyBytes,
          cpuMicrosPerDelivery,
        });
      }
      const best = runs.reduce((a, b) => (b.receiverRate > a.receiverRate ? b : a));
      const rate = best.receiverRate;
      const label =
        id === 'L' ? `bare loop, ${config.concurrency} in flight (best of ${ROUNDS})` : '  bare loop again, at the end (drift check)';
      return {
        id,
        title: 'bare signed undici loop',
        figures: [{ id, label, value: rate, unit: 'deliveries/s' }],
        details: { requests: count, concurrency: config.concurrency, rate, runs, cpuMicrosPerDelivery: best.cpuMicrosPerDelivery },
      };
    } finally {
      await limit.stop();
    }
  };
