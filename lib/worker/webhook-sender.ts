import { Agent, type Dispatcher } from 'undici';
import { guardedLookup, HostRefusedError, PrivateAddressError, privateHostLiteral, type HostResolver } from '../security/ssrf-guard.js';
import { parseRetryAfter } from '../config/retry-policy.js';

export interface SenderConfig {
  timeoutMs: number;
  responseBodyLimitBytes: number;
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
  resolver: HostResolver;
}

/** What one HTTP attempt produced; `statusCode` is null when no response arrived. */
export interface SendOutcome {
  /** Cut short by the caller (shutdown), not by the receiver: it says nothing about the endpoint. */
  interrupted?: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  retryAfterMs: number | null;
  /**
   * Why the network policy refused the host name (its addresses, or the resolver's error), for the
   * host's logs only: `error` carries the generic text the tenant may see.
   */
  refusedHostDetail?: string;
}

/**
 * Sends one signed POST over a shared keep-alive agent. Redirects are never followed (undici's
 * `request` does not), so a 3xx is reported as it is and cannot bounce us to an internal address.
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(private readonly config: SenderConfig) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connect: {
        timeout: this.backstopMs,
        ...(config.allowPrivateNetworks ? {} : { lookup: guardedLookup(config.resolver) }),
      },
    });
  }

  /**
   * undici's own timers tick in half-second steps and may fire that much early, so the precise
   * whole-request timer below decides; undici's are set later, only as a backstop.
   */
  private get backstopMs(): number {
    return this.config.timeoutMs + 1_000;
  }

  async send(url: string, headers: Record<string, string>, body: string, interrupt?: AbortSignal): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const target = new URL(url);
    if (target.protocol !== 'https:' && !(this.config.allowHttp && target.protocol === 'http:')) {
      return failure(`refused to send over ${target.protocol.replace(':', '')}: only https is allowed (security.allowHttp is off)`, 0);
    }
    const refusal = this.config.allowPrivateNetworks ? null : refusePrivateLiteral(target.hostname);
    if (refusal) return failure(refusal, 0);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.config.timeoutMs);
    const onInterrupt = () => abort.abort();
    interrupt?.addEventListener('abort', onInterrupt, { once: true });
    try {
      const response = await this.agent.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        headers,
        body,
        signal: abort.signal,
        headersTimeout: this.backstopMs,
        bodyTimeout: this.backstopMs,
      });
      const responseBody = await this.readCapped(response.body);
      return {
        statusCode: response.statusCode,
        durationMs: elapsed(),
        error: describeStatus(response.statusCode),
        responseBody,
        retryAfterMs: parseRetryAfter(response.headers['retry-after']),
      };
    } catch (error) {
      if (interrupt?.aborted) return { ...failure('interrupted by shutdown', elapsed()), interrupted: true };
      const refused = hostRefusal(error);
      if (refused) return { ...failure(refused.message, elapsed()), refusedHostDetail: refused.detail };
      return failure(this.describeFailure(error, abort.signal.aborted), elapsed());
    } finally {
      clearTimeout(timer);
      interrupt?.removeEventListener('abort', onInterrupt);
    }
  }

  /** undici's own header/body timers and our whole-request timer race; all of them mean the same. */
  private describeFailure(error: unknown, aborted: boolean): string {
    const code = (error as { code?: string })?.code;
    if (aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
      return `timed out after ${this.config.timeoutMs} ms`;
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return `timed out after ${this.config.timeoutMs} ms while connecting`;
    return describeError(error);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Reads at most the configured number of bytes; a longer body is cut and its connection dropped. */
  private async readCapped(body: Dispatcher.ResponseData['body']): Promise<string | null> {
    const limit = this.config.responseBodyLimitBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        const buffer = chunk as Buffer;
        chunks.push(buffer.subarray(0, limit - size));
        size += buffer.length;
        if (size >= limit) break;
      }
    } catch {
      // A body that fails or stalls after the status line does not change the receiver's answer.
    } finally {
      if (!body.destroyed && size >= limit) body.destroy();
    }
    return size === 0 ? null : Buffer.concat(chunks).toString('utf8');
  }
}

/** What the guarded lookup never sees (literals, `localhost`), refused with why: the tenant typed it. */
function refusePrivateLiteral(hostname: string): string | null {
  const address = privateHostLiteral(hostname);
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  return address === null ? null : new PrivateAddressError(host, address).message;
}

function failure(error: string, durationMs: number): SendOutcome {
  return { statusCode: null, durationMs, error, responseBody: null, retryAfterMs: null };
}

function describeStatus(statusCode: number): string | null {
  if (statusCode >= 200 && statusCode < 300) return null;
  if (statusCode >= 300 && statusCode < 400) return `HTTP ${statusCode}: redirects are not followed; register the final URL`;
  return `HTTP ${statusCode}`;
}

/** The guarded lookup's refusal, as undici reports it: the error itself or its cause. */
function hostRefusal(error: unknown): HostRefusedError | null {
  if (error instanceof HostRefusedError) return error;
  const cause = (error as { cause?: unknown })?.cause;
  return cause instanceof HostRefusedError ? cause : null;
}

function describeError(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  if (cause instanceof PrivateAddressError) return cause.message;
  if (error instanceof PrivateAddressError) return error.message;
  const code = (error as { code?: string })?.code;
  const message = (error as Error)?.message ?? String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
