import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './free-port.js';

/**
 * A TCP hop between one app and its database. `cut()` drops every connection and resets each new one
 * at once, which to the app is exactly a database outage; `restore()` brings it back. Other clients of
 * the same database server are not affected. Connections reset while cut are counted, so a test can
 * wait until the app really tried the database during the outage.
 */
export class TcpProxy {
  private server: Server | null = null;
  private cutOff = false;
  private readonly sockets = new Set<Socket>();
  /** Connections the app opened, and had reset, while the proxy was cut. */
  refused = 0;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target);
    const server = createServer((client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(proxy.port, '127.0.0.1', resolve));
    proxy.server = server;
    return proxy;
  }

  get isCut(): boolean {
    return this.cutOff;
  }

  async restore(): Promise<void> {
    this.cutOff = false;
  }

  async cut(): Promise<void> {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Cuts, and stops listening for good. */
  async close(): Promise<void> {
    await this.cut();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.cutOff) {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(this.target);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
