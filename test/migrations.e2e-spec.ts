import { DataSource } from 'typeorm';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from '../lib/index.js';
import { startTestApp, uniqueOwner } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

describe('migrations', () => {
  it('create exactly the schema the entities describe, and revert cleanly', async () => {
    const database = await createTestDatabase({ synchronize: false });
    const dataSource = new DataSource({ ...database.options, synchronize: false, entities: WEBHOOK_ENTITIES, migrations: WEBHOOK_MIGRATIONS } as any);
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations();
      expect(applied.map((m) => m.name)).toEqual(['CreateWebhookTables1764400000000', 'AddEventTraceContext1764500000000']);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      await dataSource.undoLastMigration();
      const afterOne = dataSource.createQueryRunner();
      expect((await afterOne.getTable('webhook_events'))?.findColumnByName('trace_context')).toBeUndefined();
      await afterOne.release();
      await dataSource.undoLastMigration();
      const runner = dataSource.createQueryRunner();
      for (const table of ['webhook_endpoints', 'webhook_events', 'webhook_deliveries', 'webhook_delivery_attempts']) {
        expect(await runner.hasTable(table)).toBe(false);
      }
      await runner.release();
    } finally {
      await dataSource.destroy();
      await database.drop();
    }
  });

  it('let a host with synchronize: false run the module on migrated tables', async () => {
    const receiver = await TestReceiver.start();
    const database = await createTestDatabase({ synchronize: false });
    database.options = { ...database.options, migrations: WEBHOOK_MIGRATIONS, migrationsRun: true } as any;
    const t = await startTestApp({ database });
    try {
      const owner = uniqueOwner();
      const { body } = await t.api(owner).post('/v1/webhooks').send({ url: receiver.url('/migrated'), events: ['user.created'] }).expect(201);
      await t.publisher.emit('user.created', { ok: true }, { ownerId: owner });
      await waitFor('the delivery', () => receiver.at('/migrated').length === 1);
      await waitFor('the succeeded status', async () => {
        const list = await t.api(owner).get(`/v1/webhooks/${body.id}/deliveries`).expect(200);
        return list.body.data[0]?.status === 'succeeded';
      });
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
