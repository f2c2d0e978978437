import { type MigrationInterface, type QueryRunner, Table, TableIndex, type TableColumnOptions } from 'typeorm';

const id = (): TableColumnOptions => ({ name: 'id', type: 'varchar', length: '40', isPrimary: true });
const ref = (name: string): TableColumnOptions => ({ name, type: 'varchar', length: '40' });
const instant = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable });

/**
 * Written with TypeORM's schema API rather than raw SQL so that one migration creates the same
 * tables on PostgreSQL, MariaDB/MySQL and SQLite; a test checks it leaves nothing for `synchronize` to do.
 * Column types go through the driver's own normalisation, as the entities' do (MariaDB stores
 * `boolean` as `tinyint`, SQLite spells `int` as `integer`), so both describe identical tables.
 */
export class CreateWebhookTables1764400000000 implements MigrationInterface {
  name = 'CreateWebhookTables1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const createTable = (table: Table) => queryRunner.createTable(normalised(queryRunner, table));
    await createTable(
      new Table({
        name: 'webhook_endpoints',
        columns: [
          id(),
          { name: 'owner_id', type: 'varchar', length: '191' },
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'events', type: 'text' },
          { name: 'description', type: 'varchar', length: '1024', isNullable: true },
          { name: 'enabled', type: 'boolean', default: true },
          { name: 'disabled_reason', type: 'varchar', length: '255', isNullable: true },
          { name: 'metadata', type: 'text', isNullable: true },
          { name: 'secret', type: 'varchar', length: '512' },
          { name: 'retired_secrets', type: 'text', isNullable: true },
          instant('failing_since', true),
          { name: 'failure_count', type: 'int', default: 0 },
          instant('created_at'),
          instant('updated_at'),
        ],
        indices: [new TableIndex({ name: 'IDX_webhook_endpoints_owner', columnNames: ['owner_id', 'id'] })],
      }),
    );
    await createTable(
      new Table({
        name: 'webhook_events',
        columns: [
          id(),
          { name: 'owner_id', type: 'varchar', length: '191' },
          { name: 'type', type: 'varchar', length: '255' },
          { name: 'body', type: 'text' },
          { name: 'idempotency_key', type: 'varchar', length: '191', isNullable: true },
          instant('created_at'),
        ],
        indices: [new TableIndex({ name: 'UQ_webhook_events_idempotency', columnNames: ['owner_id', 'idempotency_key'], isUnique: true })],
      }),
    );
    await createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          id(),
          ref('event_id'),
          { name: 'event_type', type: 'varchar', length: '255' },
          ref('endpoint_id'),
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempt_count', type: 'int', default: 0 },
          instant('next_attempt_at', true),
          { name: 'lease_token', type: 'varchar', length: '40', isNullable: true },
          instant('lease_until', true),
          { name: 'last_status_code', type: 'int', isNullable: true },
          { name: 'last_error', type: 'varchar', length: '1024', isNullable: true },
          instant('created_at'),
          instant('updated_at'),
          instant('completed_at', true),
        ],
        indices: [
          new TableIndex({ name: 'IDX_webhook_deliveries_endpoint', columnNames: ['endpoint_id', 'id'] }),
          new TableIndex({ name: 'IDX_webhook_deliveries_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({ name: 'IDX_webhook_deliveries_event', columnNames: ['event_id'] }),
        ],
      }),
    );
    await createTable(
      new Table({
        name: 'webhook_delivery_attempts',
        columns: [
          id(),
          ref('delivery_id'),
          { name: 'attempt', type: 'int' },
          instant('started_at'),
          { name: 'duration_ms', type: 'int' },
          { name: 'status_code', type: 'int', isNullable: true },
          { name: 'error', type: 'varchar', length: '1024', isNullable: true },
          { name: 'response_body', type: 'text', isNullable: true },
        ],
        indices: [new TableIndex({ name: 'IDX_webhook_delivery_attempts_delivery', columnNames: ['delivery_id', 'attempt'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['webhook_delivery_attempts', 'webhook_deliveries', 'webhook_events', 'webhook_endpoints']) {
      await queryRunner.dropTable(table, true);
    }
  }
}

function normalised(queryRunner: QueryRunner, table: Table): Table {
  const driver = queryRunner.connection.driver;
  for (const column of table.columns) {
    column.type = driver.normalizeType({ type: column.type as any });
    if (column.default !== undefined) column.default = driver.normalizeDefault({ default: column.default, type: column.type } as any);
  }
  return table;
}
