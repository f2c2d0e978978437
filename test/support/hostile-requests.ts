import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Plumbing for test/hostile-input.e2e-spec.ts: sends requests byte for byte as written (raw paths,
 * raw bodies, odd headers), which supertest and fetch would "helpfully" normalise or refuse.
 */

export interface RawRequest {
  method: string;
  /** Sent as is: percent-encode anything that is not printable ASCII. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked?: boolean;
  /** Write the request bytes over a plain socket: for headers Node's client refuses to send (CR, LF, NUL). */
  rawSocket?: boolean;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

export function closeAgent(): void {
  agent.destroy();
}

/** One request; resolves with whatever the server answered, rejects only if it never answered. */
export async function send(port: number, req: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const started = Date.now();
  const { status, headers, text } = req.rawSocket ? await sendOverSocket(port, req, timeoutMs) : await sendWithHttp(port, req, timeoutMs);
  let json: unknown;
  if (/json/.test(String(headers['content-type'] ?? '')) && text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status, headers, text, json, ms: Date.now() - started };
}

function sendWithHttp(
  port: number,
  req: RawRequest,
  timeoutMs: number,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
    const headers: Record<string, string | number> = { ...req.headers };
    if (body !== undefined) {
      // Node frames a GET or DELETE body only when told to: say how, or the bytes become a second request.
      if (req.chunked) headers['Transfer-Encoding'] = 'chunked';
      else headers['Content-Length'] = body.length;
    }
    // Bodies the server refuses early (413) are answered before the upload ends: use a fresh socket
    // so a half-written request never poisons a kept-alive one.
    const outgoing = httpRequest({
      host: '127.0.0.1',
      port,
      method: req.method,
      path: req.path,
      headers,
      agent: body && body.length > 64 * 1024 ? false : agent,
    });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      outgoing.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    outgoing.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      });
    });
    // A server may answer and close while we are still uploading (EPIPE/ECONNRESET): the answer counts.
    outgoing.on('error', (error) => {
      setTimeout(() => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      }, 200);
    });
    if (body !== undefined && req.chunked) {
      for (let offset = 0; offset < body.length; offset += 16 * 1024) outgoing.write(body.subarray(offset, offset + 16 * 1024));
      outgoing.end();
    } else {
      outgoing.end(body);
    }
  });
}

/** Minimal HTTP/1.1 over a socket (Connection: close, so the body ends with the stream). */
function sendOverSocket(
  port: number,
  req: RawRequest,
  timeoutMs: number,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
    const lines = [`${req.method} ${req.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
    for (const [name, value] of Object.entries(req.headers ?? {})) lines.push(`${name}: ${value}`);
    if (body.length > 0) lines.push(`Content-Length: ${body.length}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.end(Buffer.concat([head, body])));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const match = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(raw);
      if (!match) return reject(new Error(`unparseable answer: ${JSON.stringify(raw.slice(0, 200))}`));
      const headers: IncomingHttpHeaders = {};
      for (const line of match[2].split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let text = match[3];
      if (/chunked/i.test(String(headers['transfer-encoding'] ?? ''))) text = dechunk(text);
      resolve({ status: Number(match[1]), headers, text });
    });
  });
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const newline = rest.indexOf('\r\n');
    if (newline < 0) return out;
    const size = parseInt(rest.slice(0, newline), 16);
    if (!size) return out;
    out += rest.slice(newline + 2, newline + 2 + size);
    rest = rest.slice(newline + 2 + size + 2);
  }
}

/** Runs `work` over `items` with at most `concurrency` in flight; keeps input order in the result. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/** Every row of each table, ordered by id, with values normalised to JSON so drivers compare alike. */
export async function snapshotTables(
  dataSource: DataSource,
  entities: Record<string, EntityTarget<ObjectLiteral>>,
): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  for (const [name, entity] of Object.entries(entities)) {
    const rows = await dataSource.getRepository(entity).find({ order: { id: 'ASC' } });
    snapshot[name] = JSON.parse(JSON.stringify(rows));
  }
  return snapshot;
}

/** Percent-encodes every UTF-8 byte of `value` that is not unreserved, so the path goes out byte-exact. */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A header value carrying UTF-8 bytes (Node sends header strings as latin1). */
export function utf8Header(value: string): string {
  return Buffer.from(value, 'utf8').toString('latin1');
}

/** Rows added, removed or changed between two snapshots, in words; empty when they are identical. */
export function describeSnapshotChanges(before: Record<string, unknown[]>, after: Record<string, unknown[]>): string[] {
  const changes: string[] = [];
  for (const table of Object.keys(before)) {
    const byId = (rows: unknown[]) => new Map(rows.map((row) => [(row as { id: string }).id, row as Record<string, unknown>]));
    const [old, now] = [byId(before[table]), byId(after[table] ?? [])];
    for (const [id, row] of now) {
      if (!old.has(id)) {
        changes.push(`${table}: row ${id} added (${JSON.stringify(row).slice(0, 160)})`);
        continue;
      }
      const was = old.get(id)!;
      const columns = Object.keys({ ...was, ...row }).filter((column) => JSON.stringify(was[column]) !== JSON.stringify(row[column]));
      if (columns.length) {
        changes.push(
          `${table}: row ${id} changed: ` +
            columns.map((c) => `${c} ${JSON.stringify(was[c])} → ${JSON.stringify(row[c])}`.slice(0, 160)).join(', '),
        );
      }
    }
    for (const id of old.keys()) if (!now.has(id)) changes.push(`${table}: row ${id} removed`);
  }
  return changes;
}
