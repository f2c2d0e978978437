export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** A call answered with another status than the one the story expects. */
export class UnexpectedResponseError extends Error {}

/** The sample app's HTTP API, called with `Authorization: Bearer <API key>` like the guide's curl commands. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    /** Called with a one-line summary of each call; leave out for quiet polling. */
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async call<T = unknown>(method: string, path: string, expectedStatus: number, body?: unknown): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    this.log(`${method} ${path} → ${response.status}`);
    if (response.status !== expectedStatus) {
      throw new UnexpectedResponseError(`${method} ${path} answered ${response.status}, expected ${expectedStatus}: ${text}`);
    }
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
  }
}
