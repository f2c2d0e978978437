import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { wallNow } from './support/clock.js';
import { serve } from './support/ipc.js';

/**
 * The webhook receiver, alone in its process so that it never shares an event loop with the sender.
 * `/ok/<group>/<n>` answers 200 with an empty body at once; `/hole/<group>/<n>` reads the request and
 * never answers (a black-holed endpoint). Acknowledgements are counted per group by unique
 * `x-webhook-delivery`, so a redelivery is never counted twice.
 */

export interface GroupStats {
  group: string;
  unique: number;
  requests: number;
  duplicates: number;
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
  bodyBytes: number;
  firstAt: number;
  lastAt: number;
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

function groupOf(path: string): string {
  const [, kind = '', name = ''] = path.split('/', 3);
  return `/${kind}/${name}`;
}

function groupNamed(name: string): Group {
  let group = groups.get(name);
  if (!group) {
    group = { ids: new Set(), requests: 0, bodyBytes: 0, firstAt: 0, lastAt: 0, seqs: [], latencies: [] };
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
    duplicates: group.requests - group.ids.size,
    firstAt: group.firstAt,
    lastAt: group.lastAt,
    avgBodyBytes: group.requests === 0 ? 0 : group.bodyBytes / group.requests,
  };
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
    if (path.startsWith('/hole/')) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    const id = req.headers['x-webhook-delivery'];
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

const server = createServer({ keepAliveTimeout: 30_000 }, handle);

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serve(
    {
      reset: ({ latency = false }: { latency?: boolean }) => {
        for (const res of hanging) res.socket?.destroy();
        hanging.clear();
        groups.clear();
        recordLatency = latency;
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
