/** The management API as the portal calls it: same origin, the portal token as a bearer, no cookies. */

export interface Endpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed' | 'skipped';
  attempt_count: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface Attempt {
  id: string;
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

export interface DeliveryDetail extends Delivery {
  payload: unknown;
  attempts: Attempt[];
}

export interface EventType {
  name: string;
  description: string | null;
  schema: unknown;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export type AuthFailure = 'expired' | 'invalid';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Api = ReturnType<typeof createApi>;

export function createApi(base: string, token: string, onAuthFailure: (reason: AuthFailure) => void) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
    if (response.status === 204) return undefined as T;
    const data = await response.json().catch(() => null);
    if (response.status === 401) onAuthFailure(String(data?.message ?? '').includes('expired') ? 'expired' : 'invalid');
    if (!response.ok) throw new ApiError(response.status, messageOf(data, response.status));
    return data as T;
  }
  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
    patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
    remove: (path: string) => call<void>('DELETE', path),
  };
}

function messageOf(data: any, status: number): string {
  const message = data?.message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : `request failed (${status})`;
}

export const query = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter(([, value]) => value !== undefined && value !== '') as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : '';
};
