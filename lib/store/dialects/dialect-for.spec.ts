import type { DataSource } from 'typeorm';
import { WebhooksSetupError } from '../../webhooks.errors.js';
import { dialectFor } from './dialect-for.js';
import { MysqlDialect } from './mysql.dialect.js';
import { PostgresDialect } from './postgres.dialect.js';
import { SqliteDialect } from './sqlite.dialect.js';

const dataSourceOf = (type: string) => ({ options: { type } }) as unknown as DataSource;

describe('dialectFor', () => {
  it.each([
    ['postgres', PostgresDialect],
    ['mysql', MysqlDialect],
    ['mariadb', MysqlDialect],
    ['better-sqlite3', SqliteDialect],
    ['sqlite', SqliteDialect],
  ])('gives %s its dialect', (type, dialect) => {
    expect(dialectFor(dataSourceOf(type))).toBeInstanceOf(dialect);
  });

  it('states what differs between the databases', () => {
    const [postgres, mysql, sqlite] = ['postgres', 'mysql', 'better-sqlite3'].map((type) => dialectFor(dataSourceOf(type)));
    expect([postgres.combinesInserts, mysql.combinesInserts, sqlite.combinesInserts]).toEqual([true, false, false]);
    expect([postgres.serialTransactions, mysql.serialTransactions, sqlite.serialTransactions]).toEqual([false, false, true]);
    expect([postgres.maxBodyBytes, mysql.maxBodyBytes, sqlite.maxBodyBytes]).toEqual([Infinity, 65_535, Infinity]);
    expect(postgres.outcomesPerStatement).toBe(Infinity);
    expect(() => sqlite.combineInserts('a', 'b')).toThrow('SqliteDialect cannot combine INSERTs');
  });

  it('fails the boot for a database it does not support, naming the supported ones', () => {
    expect(() => dialectFor(dataSourceOf('oracle'))).toThrow(WebhooksSetupError);
    expect(() => dialectFor(dataSourceOf('oracle'))).toThrow(
      'WebhooksModule: the TypeORM data source is of type "oracle", which WebhooksModule does not support; ' +
        'use one of postgres, mysql, mariadb, better-sqlite3, sqlite',
    );
  });
});
