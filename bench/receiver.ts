import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { wallNow } from './support/clock.js';
import { serve } from './support/ipc.js';
import { seededRandom } from './support/seeded-random.js';

/**
 * The webhook receiver, alone in its process so that it never shares an event loop with the sender.
 * `/ok/<group>/<n>` answers 200 with an empty body at once; `/hole/<group>/<n>` reads the request and
 * never answers (a black-holed endpoint). `/flaky-500/…`, `/flaky-reset/…` and `/flaky-hang/…` answer
 * 200 but fail the share of requests set by `reset({ failureRate })`: with a 500, by resetting the
 * connection, or by never answering. Which requests fail is drawn from a PRNG per group seeded with
 * `reset({ seed })` and the group's name, so runs fail the same share in the same order of arrival.
 * Acknowledgements are counted per group by unique `x-webhook-delivery` (or by the header `countBy`
 * names), so a redelivery is never counted twice.
 */

type Failure = 'error' | 'reset' | 'hang';

/** The receiver's path kinds that fail some or all requests, and how. */
const FAILING_KINDS: Record<string, { failure: Failure; always: boolean }> = {
  hole: { failure: 'hang', always: true },
  'flaky-500': { failure: 'error', always: false },
  'flaky-reset': { failure: 'reset', always: false },
  'flaky-hang': { failure: 'hang', always: false },
};

/** The header that identifies a delivery for counting: one per delivery, or the event id a receiver dedupes on. */
type CountBy = 'x-webhook-delivery' | 'webhook-id';

export interface GroupStats {
  group: string;
  unique: number;
  requests: number;
  duplicates: number;
  /** Requests the receiver failed on purpose (an error status, a reset, or no answer). */
  failed: number;
  /** Receiver wall-clock time of the first and of the latest request of any outcome, in ms. */
  firstRequestAt: number;
  lastRequestAt: number;
  /** Receiver wall-clock time of the first and of the latest new (unique) delivery, in ms. */
  firstAt: number;
  lastAt: number;
  avgBodyBytes: number;
}

export interface AwaitResult extends GroupStats {
  reached: boolean;
  /** When the wait ended: the count was reached, or the timeout fired. */
  at: number;
}

interface Group {
  ids: Set<string>;
  requests: number;
  failed: number;
  bodyBytes: number;
  firstAt: number;
  lastAt: number;
  firstRequestAt: number;
  lastRequestAt: number;
  random: () => number;
  seqs: number[];
  latencies: number[];
}

interface Waiter {
  group: string;
  count: number;
  done: (reached: boolean) => void;
}

const groups = new Map<string, Group>();
const waiters = new Set<Waiter>();
const hanging = new Set<ServerResponse>();
let recordLatency = false;
let failureRate = 0;
let seed = '';
let countBy: CountBy = 'x-webhook-delivery';

function groupOf(path: string): string {
  const [, kind = '', name = ''] = path.split('/', 3);
  return `/${kind}/${name}`;
}

function groupNamed(name: string): Group {
  let group = groups.get(name);
  if (!group) {
    group = {
      ids: new Set(),
      requests: 0,
      failed: 0,
      bodyBytes: 0,
      firstAt: 0,
      lastAt: 0,
      firstRequestAt: 0,
      lastRequestAt: 0,
      random: seededRandom(`${seed}${name}`),
      seqs: [],
      latencies: [],
    };
    groups.set(name, group);
  }
  return group;
}

function snapshot(name: string): GroupStats {
  const group = groupNamed(name);
  return {
    group: name,
    unique: group.ids.size,
    requests: group.requests,
    duplicates: group.requests - group.failed - group.ids.size,
    failed: group.failed,
    firstRequestAt: group.firstRequestAt,
    lastRequestAt: group.lastRequestAt,
    firstAt: group.firstAt,
    lastAt: group.lastAt,
    avgBodyBytes: group.requests === 0 ? 0 : group.bodyBytes / group.requests,
  };
}

/** How this request is to fail, or null to answer it 200. */
function failureOf(path: string, group: Group): Failure | null {
  const kind = FAILING_KINDS[path.split('/', 2)[1] ?? ''];
  if (!kind) return null;
  if (kind.always) return kind.failure;
  return group.random() < failureRate ? kind.failure : null;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (recordLatency) chunks.push(chunk);
  });
  req.on('end', () => {
    const at = wallNow();
    const path = req.url ?? '/';
    const name = groupOf(path);
    const group = groupNamed(name);
    group.requests++;
    group.bodyBytes += size;
    if (group.firstRequestAt === 0) group.firstRequestAt = at;
    group.lastRequestAt = at;
    const failure = failureOf(path, group);
    if (failure) {
      group.failed++;
      fail(failure, req, res);
      return;
    }
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    const id = req.headers[countBy];
    if (typeof id !== 'string' || group.ids.has(id)) return;
    group.ids.add(id);
    if (group.firstAt === 0) group.firstAt = at;
    group.lastAt = at;
    if (recordLatency) {
      const data = JSON.parse(Buffer.concat(chunks).toString('utf8')).data;
      group.seqs.push(data.seq);
      group.latencies.push(at - data.t);
    }
    for (const waiter of waiters) {
      if (waiter.group === name && group.ids.size >= waiter.count) waiter.done(true);
    }
  });
}

function fail(failure: Failure, req: IncomingMessage, res: ServerResponse): void {
  if (failure === 'hang') {
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
  } else if (failure === 'reset') {
    req.socket.resetAndDestroy();
  } else {
    res.writeHead(500, { 'content-length': '0' });
    res.end();
  }
}

const server = createServer({ keepAliveTimeout: 30_000 }, handle);

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serve(
    {
      reset: (options: { latency?: boolean; failureRate?: number; seed?: string; countBy?: CountBy }) => {
        for (const res of hanging) res.socket?.destroy();
        hanging.clear();
        groups.clear();
        recordLatency = options.latency ?? false;
        failureRate = options.failureRate ?? 0;
        seed = options.seed ?? '';
        countBy = options.countBy ?? 'x-webhook-delivery';
        return null;
      },
      stats: ({ group }: { group: string }) => snapshot(group),
      /** Resolves once `group` has acknowledged `count` unique deliveries, or at the timeout. */
      await: ({ group, count, timeoutMs }: { group: string; count: number; timeoutMs: number }) =>
        new Promise<AwaitResult>((resolve) => {
          const waiter: Waiter = {
            group,
            count,
            done: (reached) => {
              clearTimeout(timer);
              waiters.delete(waiter);
              resolve({ reached, at: wallNow(), ...snapshot(group) });
            },
          };
          const timer = setTimeout(() => waiter.done(false), timeoutMs);
          waiters.add(waiter);
          if (groupNamed(group).ids.size >= count) waiter.done(true);
        }),
      latencies: ({ group }: { group: string }) => {
        const { seqs, latencies } = groupNamed(group);
        return { seqs, latencies };
      },
      close: () => {
        for (const res of hanging) res.socket?.destroy();
        server.closeAllConnections();
        server.close();
        setImmediate(() => process.exit(0));
        return null;
      },
    },
    { port },
  );
});
