import type { EmitRun } from '../app-process.js';
import { config } from '../config.js';
import type { Figure } from '../report.js';
import { ownerDeliveryLog, slowestDeliveries } from '../support/delivery-log.js';
import { awaitAcks, withStack } from '../support/stack.js';
import type { Scenario } from './common.js';

/** One endpoint per way of failing, each of its own owner, as three customers' flaky receivers would be. */
const ENDPOINTS = [
  { ownerId: 'p8-error', kind: 'flaky-500', label: 'answering 500' },
  { ownerId: 'p8-reset', kind: 'flaky-reset', label: 'resetting the connection' },
  { ownerId: 'p8-hang', kind: 'flaky-hang', label: 'never answering' },
] as const;

/** Deliveries traced attempt by attempt per endpoint, the slowest first. */
const TRACED = 5;

/**
 * P8: three endpoints that fail 30 % of requests at random (the receiver's seeded PRNG), one with a
 * 500, one by resetting the connection, one by never answering, with `retry.schedule` 12 × 150 ms and
 * `delivery.timeoutMs` 500. Each gets `eventsPerEndpoint` events from the emitter process while one
 * worker process delivers. The figure runs from the first emit to the last event acknowledged, counted
 * at the receiver by distinct `webhook-id` per endpoint; the database must then hold every delivery
 * row as `succeeded`.
 */
export const flakyEndpointsScenario: Scenario = async (context) => {
  const { receiver } = context;
  const { eventsPerEndpoint: events, failureRate, seed, timeoutMs, retrySchedule, deadlineSeconds } = config.p8;
  const expected = events * ENDPOINTS.length;
  return withStack(receiver, 'P8', { workers: 1, timeoutMs, retrySchedule }, async (stack) => {
    for (const endpoint of ENDPOINTS) await stack.createEndpoints(endpoint.ownerId, [`/${endpoint.kind}/p8/0`]);
    await stack.warmUp();
    await receiver.request('reset', { failureRate, seed, countBy: 'webhook-id' });
    try {
      const acks = ENDPOINTS.map((endpoint) => awaitAcks(receiver, `/${endpoint.kind}/p8`, events, deadlineSeconds * 1_000));
      const bursts: EmitRun[] = [];
      for (const endpoint of ENDPOINTS) {
        const burst = { ownerId: endpoint.ownerId, events, batch: config.emitBatch, bodyBytes: config.bodyBytes };
        bursts.push(await stack.emitter.request<EmitRun>('burst', burst));
      }
      const startAt = bursts[0].startAt;
      const acked = await Promise.all(acks);
      const complete = acked.every((a) => a.reached);
      const endAt = Math.max(...acked.map((a) => (a.reached ? a.lastAt : a.at)));
      const db = await stack.schema.waitAllSucceeded(expected + config.warmupDeliveries, 30_000);
      const perEndpoint = await Promise.all(
        ENDPOINTS.map(async (endpoint, i) => {
          const a = acked[i];
          return {
            ...endpoint,
            events,
            acknowledged: a.unique,
            complete: a.reached,
            seconds: ((a.reached ? a.lastAt : a.at) - startAt) / 1_000,
            requests: a.requests,
            failedOnPurpose: a.failed,
            duplicates: a.duplicates,
            deliveries: await ownerDeliveryLog(stack.schema, endpoint.ownerId),
            slowest: await slowestDeliveries(stack.schema, endpoint.ownerId, TRACED),
          };
        }),
      );
      const succeeded = perEndpoint.reduce((sum, e) => sum + (e.deliveries.byStatus.succeeded ?? 0), 0);
      const requests = perEndpoint.reduce((sum, e) => sum + e.requests, 0);
      const figures: Figure[] = [
        {
          id: 'P8',
          label: `3 endpoints failing ${failureRate * 100} %, ${events} events each: first emit → all ${expected} acked`,
          value: complete ? (endAt - startAt) / 1_000 : Infinity,
          unit: 's',
          target: { op: '<=', value: 60 },
        },
        ...perEndpoint.map((e): Figure => ({
          id: 'P8',
          label: `  endpoint ${e.label}: all ${events} acked (info)`,
          value: e.seconds,
          unit: 's',
        })),
        ...perEndpoint.map((e): Figure => ({
          id: 'P8',
          label: `  requests at the endpoint ${e.label} (info)`,
          value: e.requests,
          unit: 'requests',
        })),
        {
          id: 'P8',
          label: `  delivery rows succeeded in the database (of ${expected})`,
          value: succeeded,
          unit: 'rows',
          target: { op: '>=', value: expected },
        },
      ];
      return {
        id: 'P8',
        title: 'flaky endpoints',
        figures,
        details: {
          failureRate,
          seed,
          timeoutMs,
          retrySchedule,
          eventsPerEndpoint: events,
          deliveries: expected,
          complete,
          seconds: (endAt - startAt) / 1_000,
          emitSeconds: (bursts[bursts.length - 1].endAt - startAt) / 1_000,
          requests,
          secondsToAllRowsSucceeded: db.at === null ? null : (db.at - startAt) / 1_000,
          rowsByStatus: db.counts,
          perEndpoint,
        },
      };
    } finally {
      await receiver.request('reset'); // lets go of hung sockets and stops failing requests
    }
  });
};
