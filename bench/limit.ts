import { createHmac, randomBytes } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import { wallNow } from './support/clock.js';
import { serve } from './support/ipc.js';
import { eventData, padFor, wireBody } from './support/payload.js';

/**
 * L, the limit: the same receiver driven by a bare loop of signed keep-alive POSTs, `concurrency` in
 * flight, with no queue and no database. Each request does the per-attempt work of the module's
 * sender (URL parse, both HMAC signatures, abort timer, capped body read) over an identically
 * configured undici Agent, so the gap between L and a delivery figure is what the pipeline costs.
 */

export interface LimitRun {
  startAt: number;
  endAt: number;
  completed: number;
  failed: number;
}

const TIMEOUT_MS = 15_000;
const RESPONSE_BODY_LIMIT = 4_096;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const agent = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: TIMEOUT_MS } });

async function run({
  urls,
  count,
  concurrency,
  bodyBytes,
  label,
}: {
  urls: string[];
  count: number;
  concurrency: number;
  bodyBytes: number;
  label: string;
}): Promise<LimitRun> {
  const eventId = `evt_${label.toUpperCase().padEnd(26, '0')}`; // as long as the module's ids
  // A six-digit sequence number and a real timestamp, as in the module's bodies, so the sizes match.
  const body = wireBody(eventId, eventData(100_000, wallNow(), padFor(bodyBytes)));
  let next = 0;
  let completed = 0;
  let failed = 0;
  const startAt = wallNow();
  const lane = async () => {
    for (let n = next++; n < count; n = next++) {
      const ok = await send(urls[n % urls.length], `dlv_${label}_${n}`, eventId, body);
      if (ok) completed++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { startAt, endAt: wallNow(), completed, failed };
}

async function send(url: string, deliveryId: string, eventId: string, body: string): Promise<boolean> {
  const timestamp = Math.floor(Date.now() / 1_000);
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const standard = createHmac('sha256', key).update(`${eventId}.${timestamp}.`).update(body).digest('base64');
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'nestjs-webhooks-bench/limit',
    'webhook-id': eventId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${standard}`,
    'x-webhook-signature': createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(body).digest('hex'),
    'x-webhook-event': 'bench.event',
    'x-webhook-delivery': deliveryId,
    'x-webhook-attempt': '1',
  };
  const target = new URL(url);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    const response = await agent.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      headers,
      body,
      signal: abort.signal,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    await readCapped(response.body);
    return response.statusCode >= 200 && response.statusCode < 300;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<void> {
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size >= RESPONSE_BODY_LIMIT) break;
  }
}

serve({
  run,
  close: async () => {
    await agent.close();
    setImmediate(() => process.exit(0));
    return null;
  },
});
