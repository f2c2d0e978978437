import type { WebhookDeliveryView } from 'nestjs-webhooks';
import type { ReceivedDelivery } from '../receiver/received-delivery.js';

/** An event the app reported emitting (its `Webhook-Event-Id`) while the endpoint was subscribed to its type. */
export interface ExpectedEvent {
  id: string;
  type: string;
  userId: string;
}

export type RowResult = 'verified' | 'rejected' | 'missing' | 'unexpected';

export interface SummaryRow {
  eventType: string;
  eventId: string;
  attempt: number | null;
  guideSignatureOk: boolean | null;
  standardSignatureOk: boolean | null;
  /** The delivery's status in `GET /v1/webhooks/:id/deliveries`. */
  apiStatus: string | null;
  result: RowResult;
}

export interface RunVerdict {
  ok: boolean;
  rows: SummaryRow[];
  problems: string[];
}

/** Every expected event has a delivery that is no longer pending: succeeded, or out of retries. */
export function allSettled(expected: readonly ExpectedEvent[], apiDeliveries: readonly WebhookDeliveryView[]): boolean {
  return expected.every((event) => apiDeliveries.some((delivery) => delivery.event_id === event.id && delivery.status !== 'pending'));
}

/**
 * The run passes only if every expected event arrived and verified both ways, nothing failed
 * verification, nothing unexpected arrived, and the app's own delivery log agrees.
 */
export function judgeRun(
  expected: readonly ExpectedEvent[],
  received: readonly ReceivedDelivery[],
  apiDeliveries: readonly WebhookDeliveryView[],
): RunVerdict {
  const expectedIds = new Set(expected.map((event) => event.id));
  const apiStatus = new Map(apiDeliveries.map((delivery) => [delivery.event_id, delivery.status]));
  const rows: SummaryRow[] = [];
  const problems: string[] = [];

  for (const event of expected) {
    const attempts = received.filter((delivery) => delivery.webhookId === event.id);
    const status = apiStatus.get(event.id) ?? null;
    if (attempts.length === 0)
      rows.push({
        eventType: event.type,
        eventId: event.id,
        attempt: null,
        guideSignatureOk: null,
        standardSignatureOk: null,
        apiStatus: status,
        result: 'missing',
      });
    for (const delivery of attempts)
      rows.push({ ...rowOf(delivery, status), eventType: event.type, result: isGoodDeliveryOf(event, delivery) ? 'verified' : 'rejected' });
    problems.push(...problemsOf(event, attempts, status));
  }
  for (const delivery of received.filter((delivery) => !expectedIds.has(delivery.webhookId))) {
    rows.push({ ...rowOf(delivery, apiStatus.get(delivery.webhookId) ?? null), result: 'unexpected' });
    problems.push(`unexpected delivery of ${delivery.eventType} ${delivery.webhookId || '(no webhook-id)'}`);
  }
  for (const delivery of apiDeliveries.filter((delivery) => !expectedIds.has(delivery.event_id))) {
    problems.push(`the deliveries API lists ${delivery.event_type} ${delivery.event_id}, which was not expected`);
  }
  return { ok: problems.length === 0, rows, problems };
}

function problemsOf(event: ExpectedEvent, attempts: readonly ReceivedDelivery[], apiStatus: string | null): string[] {
  const what = `${event.type} ${event.id} (user ${event.userId})`;
  const problems: string[] = [];
  const refused = attempts.filter((delivery) => delivery.status !== 200);
  if (attempts.length === 0) problems.push(`${what} never arrived`);
  if (refused.length > 0)
    problems.push(`${what}: ${refused.length} attempt(s) failed verification, last because ${refused[refused.length - 1].problem}`);
  if (attempts.length > refused.length && !attempts.some((delivery) => isGoodDeliveryOf(event, delivery))) {
    problems.push(`${what}: signatures verified but the body is not this event (id, type or user_id differ)`);
  }
  if (apiStatus !== 'succeeded') problems.push(`${what}: the deliveries API says ${apiStatus ?? 'there is no delivery'}, not succeeded`);
  return problems;
}

/** The receiver accepted a delivery of exactly this event: right id, type and user, both signatures valid. */
function isGoodDeliveryOf(expected: ExpectedEvent, delivery: ReceivedDelivery): boolean {
  return (
    delivery.webhookId === expected.id &&
    delivery.eventId === expected.id &&
    delivery.eventType === expected.type &&
    userIdOf(delivery.data) === expected.userId &&
    delivery.guideSignatureOk &&
    delivery.standardSignatureOk &&
    delivery.status === 200
  );
}

function rowOf(delivery: ReceivedDelivery, apiStatus: string | null): SummaryRow {
  return {
    eventType: delivery.eventType ?? '?',
    eventId: delivery.webhookId,
    attempt: delivery.attempt,
    guideSignatureOk: delivery.guideSignatureOk,
    standardSignatureOk: delivery.standardSignatureOk,
    apiStatus,
    result: delivery.status === 200 ? 'verified' : 'rejected',
  };
}

function userIdOf(data: unknown): unknown {
  return data !== null && typeof data === 'object' ? (data as { user_id?: unknown }).user_id : undefined;
}
