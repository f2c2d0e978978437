/** Where an attempt goes, as the HTTP client semantic conventions name it. */
export interface HttpTarget {
  /** The URL without credentials, and with every query value replaced (webhook URLs often carry tokens there). */
  urlFull: string;
  serverAddress: string;
  serverPort: number;
}

const REDACTED = 'REDACTED';
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** Null for a URL that does not parse (the sender refuses it too). */
export function httpTarget(url: string): HttpTarget | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.username) parsed.username = REDACTED;
  if (parsed.password) parsed.password = REDACTED;
  if (parsed.search) {
    const names = [...new Set([...parsed.searchParams.keys()])];
    parsed.search = names.map((name) => `${encodeURIComponent(name)}=${REDACTED}`).join('&');
  }
  parsed.hash = '';
  return {
    urlFull: parsed.href,
    serverAddress: parsed.hostname.replace(/^\[|\]$/g, ''),
    serverPort: parsed.port ? Number(parsed.port) : (DEFAULT_PORTS[parsed.protocol] ?? 0),
  };
}

/**
 * `error.type` for a failed attempt: the status code when the receiver answered (anything but 2xx
 * fails a webhook, redirects included), else a low-cardinality name for why no answer came.
 */
export function attemptErrorType(statusCode: number | null, error: string | null): string | undefined {
  if (statusCode !== null) return statusCode >= 200 && statusCode < 300 ? undefined : String(statusCode);
  if (error === null) return undefined;
  if (error.startsWith('timed out')) return 'timeout';
  if (error.startsWith('refused')) return 'refused';
  const code = /\b(E[A-Z0-9]{3,}|UND_ERR_[A-Z_]+)\b/.exec(error);
  return code ? code[1] : '_OTHER';
}
