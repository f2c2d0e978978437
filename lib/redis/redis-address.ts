/** The parts of an ioredis client's options that say where it connects. */
export interface RedisAddressOptions {
  host?: string;
  port?: number;
  path?: string | null;
  db?: number;
  name?: string;
  sentinels?: Array<{ host?: string; port?: number }> | null;
}

/**
 * Where a Redis client connects, for logs: `host:port`, a socket path or a sentinel group, and the
 * database when it is not 0. Credentials are never part of it, whatever the options hold.
 */
export function describeRedisAddress(options: RedisAddressOptions): string {
  const db = options.db ? ` (db ${options.db})` : '';
  if (options.path) return `unix:${options.path}${db}`;
  if (options.sentinels && options.sentinels.length > 0) {
    const sentinels = options.sentinels.map((s) => hostPort(s.host, s.port ?? 26379)).join(', ');
    return `sentinel group "${options.name ?? 'mymaster'}" via ${sentinels}${db}`;
  }
  return `${hostPort(options.host, options.port ?? 6379)}${db}`;
}

function hostPort(host = 'localhost', port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
