import type { IncomingHttpHeaders } from 'node:http';

/** The part of a request that `ApiKeyGuard` reads and writes. */
export interface AuthenticatedRequest {
  headers: IncomingHttpHeaders;
  /** Set by `ApiKeyGuard` once the key checks out. */
  accountId?: string;
}
