import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';

export type DatabaseKind = 'sqlite' | 'postgres' | 'mariadb';

/** A private database (file, schema or database) for one test app, and how to throw it away. */
export interface TestDatabase {
  kind: DatabaseKind;
  options: DataSourceOptions;
  drop(): Promise<void>;
}

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const MARIADB_URL = 'mysql://root@127.0.0.1:3306/test';

/** SQLite unless `DB` (sqlite | postgres | mariadb) or `DATABASE_URL` selects another. */
export function selectedDatabase(): DatabaseKind {
  const url = process.env.DATABASE_URL;
  if (url?.startsWith('postgres')) return 'postgres';
  if (url?.startsWith('mysql') || url?.startsWith('mariadb')) return 'mariadb';
  const kind = (process.env.DB ?? 'sqlite').toLowerCase();
  if (kind === 'postgres' || kind === 'pg' || kind === 'postgresql') return 'postgres';
  if (kind === 'mariadb' || kind === 'mysql') return 'mariadb';
  if (kind === 'sqlite') return 'sqlite';
  throw new Error(`DB=${process.env.DB} is not one of sqlite, postgres, mariadb`);
}

export async function createTestDatabase(
  options: { kind?: DatabaseKind; synchronize?: boolean; file?: boolean } = {},
): Promise<TestDatabase> {
  const kind = options.kind ?? selectedDatabase();
  const synchronize = options.synchronize ?? true;
  const name = `wh_${randomBytes(6).toString('hex')}`;
  if (kind === 'sqlite') {
    const dir = options.file ? mkdtempSync(join(tmpdir(), 'nestjs-webhooks-')) : null;
    return {
      kind,
      options: { type: 'better-sqlite3', database: dir ? join(dir, 'test.sqlite') : ':memory:', synchronize },
      drop: async () => {
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (kind === 'postgres') {
    const url = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : POSTGRES_URL;
    await admin({ type: 'postgres', url }, `CREATE SCHEMA "${name}"`);
    return {
      kind,
      options: { type: 'postgres', url, schema: name, synchronize, poolSize: 10 },
      drop: () => admin({ type: 'postgres', url }, `DROP SCHEMA IF EXISTS "${name}" CASCADE`),
    };
  }
  const url = process.env.DATABASE_URL?.match(/^(mysql|mariadb)/) ? process.env.DATABASE_URL : MARIADB_URL;
  await admin({ type: 'mariadb', url }, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  return {
    kind,
    options: { type: 'mariadb', url: url.replace(/\/[^/]*$/, `/${name}`), synchronize, poolSize: 10 },
    drop: () => admin({ type: 'mariadb', url }, `DROP DATABASE IF EXISTS \`${name}\``),
  };
}

async function admin(options: DataSourceOptions, sql: string): Promise<void> {
  const dataSource = await new DataSource(options).initialize();
  try {
    await dataSource.query(sql);
  } finally {
    await dataSource.destroy();
  }
}
