import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, WebhookDeliveryView, WebhookEndpointView } from 'nestjs-webhooks';
import { startApp } from './app/start-app.js';
import { EVENT_ID_HEADER } from './app/users/users.controller.js';
import type { UserView } from './app/users/user.view.js';
import { ApiClient } from './orchestrator/api-client.js';
import { CleanupStack } from './orchestrator/cleanup-stack.js';
import { allSettled, judgeRun, type ExpectedEvent } from './orchestrator/delivery-check.js';
import { sendForgedDelivery } from './orchestrator/forged-delivery.js';
import { freePort } from './orchestrator/free-port.js';
import { detail, maskSecret, showJson, step } from './orchestrator/narration.js';
import { deleteQueueKeys } from './orchestrator/queue-keys.js';
import { ReceiverProcess } from './orchestrator/receiver-process.js';
import { ensureRedis, RedisUnavailableError } from './orchestrator/redis-connection.js';
import { renderSummaryTable } from './orchestrator/summary-table.js';
import { pollUntil } from './orchestrator/wait-for.js';

/**
 * The whole story, end to end: a Nest app publishes user events, a receiver registered through the
 * guide's API verifies every delivery both ways, and the exit code says whether everything verified.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SETTLE_DEADLINE_MS = 30_000;
const ACCOUNT_ID = 'acct_sample';

type CreatedWebhook = WebhookEndpointView & { secret: string };

async function runSample(cleanup: CleanupStack): Promise<boolean> {
  const redisUrl = await useRedis(cleanup);
  const app = await bootApp(redisUrl, cleanup);
  const webhook = await registerEndpoint(app.api);
  const receiver = await startReceiver(webhook, cleanup);
  const forged = await sendForgedDelivery(webhook.url);
  detail(`a delivery signed with the wrong secret was answered ${forged.status} (must be 401)`);
  const expected = await changeUsers(app.api, webhook.id);

  step('List webhooks');
  showJson((await app.api.call<Page<WebhookEndpointView>>('GET', '/v1/webhooks', 200)).body);

  step(`Wait until every delivery has settled (up to ${SETTLE_DEADLINE_MS / 1000} s)`);
  const started = Date.now();
  await pollUntil(
    () => listDeliveries(app.poller, webhook.id),
    (rows) => allSettled(expected, rows),
    SETTLE_DEADLINE_MS,
  );
  const received = (await receiver.results()).filter((delivery) => delivery.webhookId !== forged.webhookId);
  detail(`the receiver got ${received.length} deliveries; waited ${Date.now() - started} ms`);

  step('Check deliveries through the API');
  const deliveries = await listDeliveries(app.api, webhook.id);
  for (const row of deliveries)
    detail(
      `${row.id}  ${row.event_type.padEnd(12)} ${row.event_id}  ${row.status}, ${row.attempt_count} attempt(s), HTTP ${row.last_status_code}`,
    );

  step('Scrape the metrics (GET /metrics, Prometheus text format)');
  const scraped = await scrapeMetrics(app.url);

  step('Delete the endpoint');
  await app.api.call('DELETE', `/v1/webhooks/${webhook.id}`, 204);
  await app.api.call('GET', `/v1/webhooks/${webhook.id}`, 404);

  step('Summary');
  const verdict = judgeRun(expected, received, deliveries);
  if (forged.status !== 401) verdict.problems.push(`the receiver answered a forged delivery with ${forged.status}, not 401`);
  const succeeded = deliveries.filter((row) => row.status === 'succeeded').length;
  if (scraped.emitted !== expected.length)
    verdict.problems.push(`/metrics counted ${scraped.emitted} events emitted, not ${expected.length}`);
  if (scraped.succeededAttempts !== succeeded) {
    verdict.problems.push(`/metrics counted ${scraped.succeededAttempts} succeeded attempts, not ${succeeded}`);
  }
  detail(renderSummaryTable(verdict.rows));
  for (const problem of verdict.problems) detail(`✗ ${problem}`);
  const passed = verdict.problems.length === 0;
  detail(passed ? `✓ all ${expected.length} events arrived and verified both ways` : `✗ ${verdict.problems.length} problem(s)`);
  return passed;
}

/** The two counters the story can check, summed over their labels. */
async function scrapeMetrics(url: string): Promise<{ emitted: number; succeededAttempts: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (pattern: RegExp) =>
    text
      .split('\n')
      .filter((line) => pattern.test(line))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  const scraped = {
    emitted: sum(/^webhooks_events_emitted_total\{/),
    succeededAttempts: sum(/^webhooks_delivery_attempts_total\{.*outcome="succeeded"/),
  };
  for (const line of text.split('\n').filter((l) => /^webhooks_(events_emitted|delivery_attempts)_total\{/.test(l))) detail(line);
  return scraped;
}

async function useRedis(cleanup: CleanupStack): Promise<string> {
  step(`Redis (REDIS_URL=${REDIS_URL})`);
  const redis = await ensureRedis(REDIS_URL);
  cleanup.add('redis-server', () => redis.stop());
  detail(redis.isPrivate ? `nothing answered there; started a private redis-server at ${redis.url}` : `using ${redis.url}`);
  return redis.url;
}

/** The app on a fresh SQLite file and its own queue, with a client for its API key. */
async function bootApp(redisUrl: string, cleanup: CleanupStack): Promise<{ url: string; api: ApiClient; poller: ApiClient }> {
  step('Boot the Nest app (SQLite + Bull + WebhooksModule)');
  const workDir = mkdtempSync(join(tmpdir(), 'nestjs-webhooks-sample-'));
  cleanup.add('temporary files', () => rmSync(workDir, { recursive: true, force: true }));
  const databasePath = join(workDir, 'sample.sqlite');
  const webhookQueue = `webhooks-sample-${randomBytes(4).toString('hex')}`;
  cleanup.add('queue keys', () => deleteQueueKeys(redisUrl, webhookQueue));
  const apiKey = `sk_test_${randomBytes(16).toString('hex')}`;
  const { app, url } = await startApp({ databasePath, redisUrl, webhookQueue, apiKeys: new Map([[apiKey, ACCOUNT_ID]]) });
  cleanup.add('app', () => app.close());
  detail(`listening on ${url}, database ${databasePath}, queue ${webhookQueue}`);
  return { url, api: new ApiClient(url, apiKey, (line) => detail(`→ ${line}`)), poller: new ApiClient(url, apiKey) };
}

/** `POST /v1/webhooks` with the body of the guide's curl example, pointed at the receiver's port. */
async function registerEndpoint(api: ApiClient): Promise<CreatedWebhook> {
  step("Register an endpoint, as the guide's curl does");
  const { body: webhook } = await api.call<CreatedWebhook>('POST', '/v1/webhooks', 201, {
    url: `http://127.0.0.1:${await freePort()}/webhook`,
    events: ['user.created', 'user.updated'],
    description: 'User events webhook',
  });
  showJson({ ...webhook, secret: maskSecret(webhook.secret) });
  return webhook;
}

async function startReceiver(webhook: CreatedWebhook, cleanup: CleanupStack): Promise<ReceiverProcess> {
  step('Start the receiver with that secret');
  const receiver = await ReceiverProcess.start({
    port: Number(new URL(webhook.url).port),
    secret: webhook.secret,
    log: (line) => detail(`receiver │ ${line}`),
  });
  cleanup.add('receiver', () => receiver.stop());
  return receiver;
}

/**
 * Creates three users, updates one, subscribes the endpoint to `user.deleted` too (the guide's
 * PATCH), then deletes one. Returns the events the endpoint should receive.
 */
async function changeUsers(api: ApiClient, webhookId: string): Promise<ExpectedEvent[]> {
  step("Create, update and delete users through the app's API");
  const expected: ExpectedEvent[] = [];
  const userIds: string[] = [];
  for (const email of ['ada@example.com', 'grace@example.com', 'alan@example.com']) {
    const created = await api.call<UserView>('POST', '/users', 201, { email });
    userIds.push(created.body.id);
    expected.push({ id: eventIdOf(created.headers), type: 'user.created', userId: created.body.id });
  }
  const updated = await api.call<UserView>('PATCH', `/users/${userIds[1]}`, 200, {
    email: 'grace.hopper@example.com',
    name: 'Grace Hopper',
  });
  expected.push({ id: eventIdOf(updated.headers), type: 'user.updated', userId: userIds[1] });

  const patched = await api.call<WebhookEndpointView>('PATCH', `/v1/webhooks/${webhookId}`, 200, {
    events: ['user.created', 'user.updated', 'user.deleted'],
  });
  detail(`endpoint now subscribed to ${patched.body.events.join(', ')}`);
  const deleted = await api.call('DELETE', `/users/${userIds[2]}`, 204);
  expected.push({ id: eventIdOf(deleted.headers), type: 'user.deleted', userId: userIds[2] });
  for (const event of expected) detail(`emitted ${event.type.padEnd(12)} ${event.id}  (user ${event.userId})`);
  return expected;
}

async function listDeliveries(api: ApiClient, webhookId: string): Promise<WebhookDeliveryView[]> {
  return (await api.call<Page<WebhookDeliveryView>>('GET', `/v1/webhooks/${webhookId}/deliveries`, 200)).body.data;
}

function eventIdOf(headers: Headers): string {
  const id = headers.get(EVENT_ID_HEADER);
  if (!id) throw new Error(`the app did not answer with a ${EVENT_ID_HEADER} header`);
  return id;
}

async function main(): Promise<number> {
  const cleanup = new CleanupStack();
  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
    console.log('\ninterrupted, cleaning up');
    void cleanup.runAll().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const started = Date.now();
  try {
    return (await runSample(cleanup)) ? 0 : 1;
  } catch (error) {
    if (!interrupted) console.error(`\n${error instanceof RedisUnavailableError ? error.message : (error as Error).stack}`);
    return 1;
  } finally {
    await cleanup.runAll();
    console.log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

// Exit explicitly: the verdict is the exit code, whatever handles a library may still hold open.
void main().then((code) => process.exit(code));
