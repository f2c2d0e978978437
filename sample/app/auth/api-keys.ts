import type { IncomingHttpHeaders } from 'node:http';

/**
 * Resolves `Authorization: Bearer <key>` to the account that owns the key. A real app would look up a
 * hashed key in its database; the sample keeps its keys in memory.
 */
export class ApiKeys {
  constructor(private readonly accountsByKey: ReadonlyMap<string, string>) {}

  accountFor(headers: IncomingHttpHeaders): string | null {
    const match = /^Bearer (\S+)$/.exec(headers.authorization ?? '');
    return match ? (this.accountsByKey.get(match[1]) ?? null) : null;
  }
}
