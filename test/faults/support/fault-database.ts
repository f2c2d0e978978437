import type { DataSourceOptions } from 'typeorm';
import { createTestDatabase, selectedDatabase, type TestDatabase } from '../../support/test-database.js';

/** Fault tests need a database server to take down: PostgreSQL unless DB/DATABASE_URL picks MariaDB. */
export function createFaultDatabase(): Promise<TestDatabase> {
  const kind = selectedDatabase();
  return createTestDatabase({ kind: kind === 'sqlite' ? 'postgres' : kind });
}

/** The same database reached through `port` on 127.0.0.1 instead (a TcpProxy in front of it). */
export function throughPort(options: DataSourceOptions, port: number): DataSourceOptions {
  const url = (options as { url?: string }).url!;
  return { ...options, url: url.replace(/@([^/:]+)(:\d+)?\//, `@127.0.0.1:${port}/`) } as DataSourceOptions;
}

export function serverAddress(options: DataSourceOptions): { host: string; port: number } {
  const url = new URL((options as { url?: string }).url!);
  return { host: url.hostname, port: Number(url.port || (options.type === 'postgres' ? 5432 : 3306)) };
}
