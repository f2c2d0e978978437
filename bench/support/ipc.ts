import { fork, type ChildProcess } from 'node:child_process';

/** Commands a helper process answers; each returns a structured-cloneable result. */
export type Handlers = Record<string, (args: any) => unknown>;

interface RequestMessage {
  kind: 'request';
  id: number;
  cmd: string;
  args: unknown;
}

interface ResponseMessage {
  kind: 'response';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface ReadyMessage {
  kind: 'ready';
  data: unknown;
}

type Message = ResponseMessage | ReadyMessage;

export interface ChildOptions {
  /** Shown in errors and logs. */
  name: string;
  env?: Record<string, string>;
  execArgv?: string[];
  /** How long start-up may take before the child is killed. */
  readyTimeoutMs?: number;
}

/** Every helper process still running, so an interrupted run can kill exactly those. */
const live = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** A forked bench process (receiver, bare loop or Nest app) driven by request/response over IPC. */
export class Child<Ready = unknown> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    private readonly process: ChildProcess,
    readonly ready: Ready,
  ) {
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => {
      this.exitCode = code;
      for (const { reject } of this.pending.values()) reject(new Error(`${name} exited (code ${code}) before answering`));
      this.pending.clear();
    });
    process.on('message', (message: Message) => {
      if (message.kind !== 'response') return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${name}: ${message.error}`));
    });
  }

  static start<Ready>(script: string, options: ChildOptions): Promise<Child<Ready>> {
    const child = fork(script, [], {
      env: { ...process.env, ...options.env },
      execArgv: options.execArgv ?? [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${options.name} did not start within ${options.readyTimeoutMs ?? 30_000} ms`));
      }, options.readyTimeoutMs ?? 30_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited during start-up (code ${code})`));
      };
      child.once('exit', onExit);
      child.on('message', function onReady(message: Message) {
        if (message.kind !== 'ready') return;
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('message', onReady);
        resolve(new Child<Ready>(options.name, child, message.data as Ready));
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  request<T = unknown>(cmd: string, args: unknown = {}, timeoutMs = 600_000): Promise<T> {
    if (this.exitCode !== undefined) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not answer "${cmd}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.process.send({ kind: 'request', id, cmd, args } satisfies RequestMessage);
    });
  }

  /** Asks the child to close itself; kills it if it has not exited after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.request('close', {}, graceMs).catch(() => undefined);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** In a child: answer the parent's requests with `handlers`, then announce readiness with `ready`. */
export function serve(handlers: Handlers, ready: unknown = null): void {
  if (!process.send) throw new Error('bench helper processes must be started with fork()');
  process.on('message', async (message: RequestMessage) => {
    if (message?.kind !== 'request') return;
    let reply: ResponseMessage;
    try {
      const handler = handlers[message.cmd];
      if (!handler) throw new Error(`unknown command "${message.cmd}"`);
      reply = { kind: 'response', id: message.id, ok: true, result: await handler(message.args) };
    } catch (error) {
      reply = { kind: 'response', id: message.id, ok: false, error: (error as Error)?.stack ?? String(error) };
    }
    if (process.connected) process.send!(reply);
  });
  // The parent going away must not leave helpers behind.
  process.on('disconnect', () => process.exit(0));
  process.send({ kind: 'ready', data: ready } satisfies ReadyMessage);
}
