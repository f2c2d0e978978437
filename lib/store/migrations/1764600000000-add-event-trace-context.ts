import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * `webhook_events.trace_context`: the W3C `traceparent` of the span that emitted the event, so that a
 * worker in another process can link each delivery attempt's span to it. Null when no span was recording.
 */
export class AddEventTraceContext1764600000000 implements MigrationInterface {
  name = 'AddEventTraceContext1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const type = queryRunner.connection.driver.normalizeType({ type: 'varchar' });
    await queryRunner.addColumn('webhook_events', new TableColumn({ name: 'trace_context', type, length: '55', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('webhook_events', 'trace_context');
  }
}
