import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HOST_REFUSED_MESSAGE, systemResolver } from '../security/ssrf-guard.js';
import { WebhookSender, type SenderConfig } from './webhook-sender.js';

interface Received {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real receiver on 127.0.0.1: each path answers as `routes` says; every request is recorded. */
async function startReceiver(routes: Record<string, (res: ServerResponse, req: IncomingMessage) => void>) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      (routes[new URL(req.url ?? '/', 'http://receiver').pathname] ?? ((r: ServerResponse) => r.end()))(res, req);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const BODY_LIMIT = 64;

const config = (overrides: Partial<SenderConfig> = {}): SenderConfig => ({
  timeoutMs: 300,
  responseBodyLimitBytes: BODY_LIMIT,
  allowHttp: true,
  allowPrivateNetworks: true,
  resolver: systemResolver,
  ...overrides,
});

describe('WebhookSender', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const senders: WebhookSender[] = [];
  const sender = (overrides: Partial<SenderConfig> = {}) => {
    const created = new WebhookSender(config(overrides));
    senders.push(created);
    return created;
  };

  beforeAll(async () => {
    receiver = await startReceiver({
      '/ok': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks'),
      '/no-content': (res) => res.writeHead(204).end(),
      '/error': (res) => res.writeHead(500).end('broken'),
      '/moved': (res) => res.writeHead(302, { location: '/target' }).end(),
      '/throttled': (res) => res.writeHead(429, { 'retry-after': '7' }).end(),
      '/unavailable': (res) => res.writeHead(503, { 'retry-after': 'soon' }).end(),
      '/large': (res) => res.writeHead(200).end('a'.repeat(BODY_LIMIT * 1_000)),
      '/endless': (res) => {
        res.writeHead(200);
        const chunk = 'b'.repeat(16 * 1_024);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      },
      '/hang': () => undefined,
      '/reset': (_res, req) => req.socket.resetAndDestroy(),
    });
  });

  afterAll(async () => {
    await Promise.all(senders.map((s) => s.close()));
    await receiver.close();
  });

  it('POSTs the body and headers as given and reports a 2xx with no error', async () => {
    const outcome = await sender().send(
      receiver.url('/ok?x=1'),
      { 'content-type': 'application/json', 'x-webhook-attempt': '3' },
      '{"id":"evt_1"}',
    );
    expect(outcome).toMatchObject({ statusCode: 200, error: null, responseBody: 'thanks', retryAfterMs: null });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    const request = receiver.received.find((r) => r.path === '/ok?x=1')!;
    expect(request).toMatchObject({ method: 'POST', body: '{"id":"evt_1"}' });
    expect(request.headers).toMatchObject({ 'content-type': 'application/json', 'x-webhook-attempt': '3' });
  });

  it('reports an empty body as null', async () => {
    expect(await sender().send(receiver.url('/no-content'), {}, '{}')).toMatchObject({ statusCode: 204, error: null, responseBody: null });
  });

  it('reports a non-2xx status as the error, with the receiver’s body', async () => {
    expect(await sender().send(receiver.url('/error'), {}, '{}')).toMatchObject({
      statusCode: 500,
      error: 'HTTP 500',
      responseBody: 'broken',
    });
  });

  it('does not follow a redirect, and says so', async () => {
    const outcome = await sender().send(receiver.url('/moved'), {}, '{}');
    expect(outcome.statusCode).toBe(302);
    expect(outcome.error).toBe('HTTP 302: redirects are not followed; register the final URL');
    expect(receiver.received.some((r) => r.path === '/target')).toBe(false);
  });

  it('reads Retry-After in seconds, and ignores one it cannot read', async () => {
    expect(await sender().send(receiver.url('/throttled'), {}, '{}')).toMatchObject({
      statusCode: 429,
      error: 'HTTP 429',
      retryAfterMs: 7_000,
    });
    expect(await sender().send(receiver.url('/unavailable'), {}, '{}')).toMatchObject({ statusCode: 503, retryAfterMs: null });
  });

  it('keeps at most the configured number of bytes of a response body', async () => {
    const outcome = await sender().send(receiver.url('/large'), {}, '{}');
    expect(outcome).toMatchObject({ statusCode: 200, error: null, responseBody: 'a'.repeat(BODY_LIMIT) });
  });

  // No request timeout to end it: only the cap can, before jest's own deadline for the test.
  it('stops reading a body that never ends once it has the configured bytes', async () => {
    const outcome = await sender({ timeoutMs: 300_000 }).send(receiver.url('/endless'), {}, '{}');
    expect(outcome).toMatchObject({ statusCode: 200, error: null, responseBody: 'b'.repeat(BODY_LIMIT) });
  }, 10_000);

  it('gives up on a receiver that does not answer after the timeout, and says so', async () => {
    const outcome = await sender({ timeoutMs: 200 }).send(receiver.url('/hang'), {}, '{}');
    expect(outcome).toMatchObject({ statusCode: null, error: 'timed out after 200 ms', responseBody: null, retryAfterMs: null });
    expect(outcome.interrupted).toBeUndefined();
    // The precise timer decides, not undici's coarse one, which may fire early.
    expect(outcome.durationMs).toBeGreaterThanOrEqual(195);
  });

  it('reports a reset connection as a failure without a status, not as a timeout', async () => {
    const outcome = await sender({ timeoutMs: 30_000 }).send(receiver.url('/reset'), {}, '{}');
    expect(outcome.statusCode).toBeNull();
    expect(outcome.error).toEqual(expect.any(String));
    expect(outcome.error).not.toContain('timed out');
    expect(outcome.interrupted).toBeUndefined();
  });

  it('reports a refused connection with its code', async () => {
    const closed = await startReceiver({});
    const url = closed.url('/gone');
    await closed.close();
    const outcome = await sender().send(url, {}, '{}');
    expect(outcome.statusCode).toBeNull();
    expect(outcome.error).toContain('ECONNREFUSED');
  });

  it('marks an attempt cut short by shutdown as interrupted', async () => {
    const interrupt = new AbortController();
    const sending = sender({ timeoutMs: 30_000 }).send(receiver.url('/hang'), {}, '{}', interrupt.signal);
    const before = receiver.received.length;
    while (receiver.received.length === before) await new Promise((resolve) => setImmediate(resolve));
    interrupt.abort();
    expect(await sending).toMatchObject({ interrupted: true, statusCode: null, error: 'interrupted by shutdown' });
  });

  it('refuses plain http unless allowed, without sending', async () => {
    const before = receiver.received.length;
    const outcome = await sender({ allowHttp: false }).send(receiver.url('/ok'), {}, '{}');
    expect(outcome).toMatchObject({ statusCode: null, durationMs: 0 });
    expect(outcome.error).toBe('refused to send over http: only https is allowed (security.allowHttp is off)');
    expect(receiver.received.length).toBe(before);
  });

  it('refuses a private address literal unless private networks are allowed, without sending', async () => {
    const before = receiver.received.length;
    const outcome = await sender({ allowPrivateNetworks: false }).send(receiver.url('/ok'), {}, '{}');
    expect(outcome.statusCode).toBeNull();
    expect(outcome.error).toBe('refused to connect to 127.0.0.1: not a public address (security.allowPrivateNetworks is off)');
    expect(receiver.received.length).toBe(before);
  });

  it('refuses a host name that resolves to a private address, telling the tenant less than the host', async () => {
    const before = receiver.received.length;
    const resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const outcome = await sender({ allowPrivateNetworks: false, resolver }).send(`http://hooks.example.test:${receiver.port}/ok`, {}, '{}');
    expect(outcome).toMatchObject({ statusCode: null, error: HOST_REFUSED_MESSAGE });
    expect(outcome.refusedHostDetail).toBe('hooks.example.test resolves to 127.0.0.1, not a public address');
    expect(receiver.received.length).toBe(before);
  });
});
