import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP receiver on 127.0.0.1 that holds every request unanswered until `release()`, then answers
 * 200, and 200 at once from then on; so a test can take the database away while deliveries are in
 * flight and let them succeed during the outage.
 */
export class HoldingReceiver {
  /** Each request received: its path and its event id (`id` of the JSON body). */
  readonly requests: Array<{ path: string; eventId: string }> = [];
  private readonly held: ServerResponse[] = [];
  private readonly sockets = new Set<Socket>();
  private holding = true;
  private answered = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<HoldingReceiver> {
    const server = createServer();
    const receiver = new HoldingReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        receiver.requests.push({ path: req.url ?? '/', eventId: JSON.parse(Buffer.concat(chunks).toString('utf8')).id as string });
        if (receiver.holding) receiver.held.push(res);
        else receiver.answer(res);
      });
    });
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Requests whose 200 has been handed to the network. */
  get answeredCount(): number {
    return this.answered;
  }

  /** Answers every held request with 200, and every later one at once. */
  release(): void {
    this.holding = false;
    for (const res of this.held.splice(0)) this.answer(res);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(res: ServerResponse): void {
    res.on('finish', () => this.answered++);
    res.writeHead(200).end('ok');
  }
}
