import type { EmitRun } from '../app-process.js';
import { config } from '../config.js';
import { median } from '../support/stats.js';
import { awaitAcks, withStack } from '../support/stack.js';
import { paths, perSecond, rateFigure, type Scenario } from './common.js';

const OWNER = 'fan-out';

/** P4: one event to `endpoints` endpoints of one owner; time from `emit` to the last acknowledgement. */
export const fanOutScenario: Scenario = async (context) => {
  const { endpoints, repeats } = config.p4;
  return withStack(context.receiver, 'P4', { workers: 1, maxEndpointsPerOwner: endpoints }, async (stack) => {
    await stack.createEndpoints(OWNER, paths('p4', endpoints));
    await stack.warmUp();
    const runs: Array<{ secondsToLastAck: number; secondsToAllRowsSucceeded: number | null; duplicates: number }> = [];
    for (let r = 0; r < repeats; r++) {
      await context.receiver.request('reset');
      await stack.schema.truncate();
      const acks = awaitAcks(context.receiver, '/ok/p4', endpoints, 60_000);
      const emitted = await stack.emitter.request<EmitRun>('emitOne', { ownerId: OWNER, bodyBytes: config.bodyBytes });
      const acked = await acks;
      if (!acked.reached) throw new Error(`P4 run ${r + 1}: ${acked.unique}/${endpoints} acknowledged within 60 s`);
      const db = await stack.schema.waitAllSucceeded(endpoints, 30_000, 20);
      runs.push({
        secondsToLastAck: (acked.lastAt - emitted.startAt) / 1_000,
        secondsToAllRowsSucceeded: db.at === null ? null : (db.at - emitted.startAt) / 1_000,
        duplicates: acked.duplicates,
      });
    }
    const seconds = median(runs.map((run) => run.secondsToLastAck));
    return {
      id: 'P4',
      title: 'fan-out',
      figures: [
        {
          id: 'P4',
          label: `1 event → ${endpoints} endpoints, all acked (median of ${repeats})`,
          value: seconds,
          unit: 's',
          target: { op: '<=', value: 2 },
        },
        rateFigure({ id: 'P4', label: '  same, as a delivery rate', value: perSecond(endpoints, 0, seconds * 1_000) }),
      ],
      details: { endpoints, repeats, runs },
    };
  });
};
