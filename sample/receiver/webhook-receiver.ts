import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReceivedDelivery } from './received-delivery.js';
import { verifyDelivery } from './verify-delivery.js';

export interface ReceiverOptions {
  port: number;
  host: string;
  /** The endpoint's `whsec_…` secret, as `POST /v1/webhooks` returned it. */
  secret: string;
  /** Where deliveries arrive; the endpoint was registered with this path. */
  path: string;
  log: (line: string) => void;
}

/** Refuse anything larger: the sender caps events at 256 KB. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * A plain `node:http` webhook receiver: `POST <path>` verifies and records a delivery,
 * `GET /results` lists everything recorded so far.
 */
export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  private readonly server: Server;

  private constructor(private readonly options: ReceiverOptions) {
    this.server = createServer((req, res) => this.route(req, res));
  }

  static async start(options: ReceiverOptions): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(options);
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(options.port, options.host, resolve);
    });
    return receiver;
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address}:${port}${this.options.path}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (req.method === 'POST' && path === this.options.path) {
      this.receive(req, res);
    } else if (req.method === 'GET' && path === '/results') {
      reply(res, 200, JSON.stringify(this.deliveries), 'application/json');
    } else {
      reply(res, 404, 'not found');
    }
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    readBody(req).then(
      (rawBody) => {
        const delivery = verifyDelivery(rawBody, req.headers, this.options.secret);
        this.deliveries.push(delivery);
        this.options.log(describe(delivery));
        reply(res, delivery.status, delivery.problem ?? '');
      },
      (error: Error) => reply(res, 413, error.message),
    );
  }
}

/** The body exactly as sent: signatures cover these bytes, so nothing may parse or re-serialize it first. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain'): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}

function describe(delivery: ReceivedDelivery): string {
  const mark = (ok: boolean) => (ok ? 'ok' : 'FAILED');
  const what = `${delivery.eventType ?? '?'} ${delivery.webhookId || '(no webhook-id)'} attempt ${delivery.attempt}`;
  const checks = `guide signature ${mark(delivery.guideSignatureOk)}, standard webhooks ${mark(delivery.standardSignatureOk)}`;
  return `${delivery.status} ${what}: ${checks}`;
}
