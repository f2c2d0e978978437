import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';

const TABLE = 'webhook_delivery_attempts';
const INDEX = 'IDX_webhook_delivery_attempts_endpoint';

/**
 * Gives each attempt its endpoint, with an (endpoint_id, started_at) index, so that an endpoint's
 * statistics over a time window read one index range. Existing attempts take their delivery's
 * endpoint; the column stays nullable so that attempts whose delivery is already gone are kept.
 */
export class AddAttemptEndpoint1764500000000 implements MigrationInterface {
  name = 'AddAttemptEndpoint1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    const column = new TableColumn({ name: 'endpoint_id', type: 'varchar', length: '40', isNullable: true });
    column.type = driver.normalizeType({ type: column.type as any });
    await queryRunner.addColumn(TABLE, column);
    const q = (name: string) => driver.escape(name);
    const attempts = await tablePath(queryRunner, TABLE);
    const deliveries = await tablePath(queryRunner, 'webhook_deliveries');
    // A correlated subquery: the one UPDATE form PostgreSQL, MySQL/MariaDB and SQLite all accept.
    await queryRunner.query(
      `UPDATE ${attempts} SET ${q('endpoint_id')} = ` +
        `(SELECT d.${q('endpoint_id')} FROM ${deliveries} d WHERE d.${q('id')} = ${attempts}.${q('delivery_id')})`,
    );
    await queryRunner.createIndex(TABLE, new TableIndex({ name: INDEX, columnNames: ['endpoint_id', 'started_at'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex(TABLE, INDEX);
    await queryRunner.dropColumn(TABLE, 'endpoint_id');
  }
}

/** The table as TypeORM found it (schema- or database-qualified where the data source names one), quoted. */
async function tablePath(queryRunner: QueryRunner, name: string): Promise<string> {
  const table = await queryRunner.getTable(name);
  if (!table) throw new Error(`${name} does not exist; run CreateWebhookTables1764400000000 first`);
  return table.name
    .split('.')
    .map((part) => queryRunner.connection.driver.escape(part))
    .join('.');
}
