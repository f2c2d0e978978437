import { DataSource } from 'typeorm';
import { CreateWebhookTables1764400000000, WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from '../lib/index.js';
import { startTestApp, uniqueOwner } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

describe('migrations', () => {
  it('create exactly the schema the entities describe, and revert cleanly', async () => {
    const database = await createTestDatabase({ synchronize: false });
    const dataSource = new DataSource({
      ...database.options,
      synchronize: false,
      entities: WEBHOOK_ENTITIES,
      migrations: WEBHOOK_MIGRATIONS,
    } as any);
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations();
      expect(applied.map((m) => m.name)).toEqual([
        'CreateWebhookTables1764400000000',
        'AddAttemptEndpoint1764500000000',
        'AddEventTraceContext1764600000000',
      ]);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      await dataSource.undoLastMigration();
      const afterOne = dataSource.createQueryRunner();
      expect((await afterOne.getTable('webhook_events'))?.findColumnByName('trace_context')).toBeUndefined();
      expect((await afterOne.getTable('webhook_delivery_attempts'))?.findColumnByName('endpoint_id')).toBeDefined();
      await afterOne.release();
      await dataSource.undoLastMigration();
      const afterTwo = dataSource.createQueryRunner();
      expect((await afterTwo.getTable('webhook_delivery_attempts'))?.findColumnByName('endpoint_id')).toBeUndefined();
      await afterTwo.release();
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

  it("give attempts recorded before the endpoint column existed their delivery's endpoint", async () => {
    // A file for SQLite: both data sources must open one database.
    const database = await createTestDatabase({ synchronize: false, file: true });
    const first = new DataSource({ ...database.options, synchronize: false, migrations: [CreateWebhookTables1764400000000] } as any);
    await first.initialize();
    const dataSource = new DataSource({
      ...database.options,
      synchronize: false,
      entities: WEBHOOK_ENTITIES,
      migrations: WEBHOOK_MIGRATIONS,
    } as any);
    try {
      await first.runMigrations();
      const q = (name: string) => first.driver.escape(name);
      const path = async (name: string) => (await first.createQueryRunner().getTable(name))!.name.split('.').map(q).join('.');
      const insert = async (table: string, row: Record<string, string | number>) =>
        first.query(
          `INSERT INTO ${await path(table)} (${Object.keys(row).map(q).join(', ')}) VALUES (${Object.values(row)
            .map((v) => (typeof v === 'number' ? v : `'${v}'`))
            .join(', ')})`,
        );
      await insert('webhook_deliveries', {
        id: 'dlv_old',
        event_id: 'evt_old',
        event_type: 'user.created',
        endpoint_id: 'wh_old',
        status: 'failed',
        created_at: 1,
        updated_at: 1,
      });
      const attempt = { attempt: 1, started_at: 1, duration_ms: 5, status_code: 500, error: 'HTTP 500' };
      await insert('webhook_delivery_attempts', { id: 'att_old', delivery_id: 'dlv_old', ...attempt });
      await insert('webhook_delivery_attempts', { id: 'att_orphan', delivery_id: 'dlv_gone', ...attempt });
      await first.destroy();
      await dataSource.initialize();
      expect((await dataSource.runMigrations()).map((m) => m.name)).toEqual([
        'AddAttemptEndpoint1764500000000',
        'AddEventTraceContext1764600000000',
      ]);
      const rows: Array<{ id: string; endpoint_id: string | null }> = await dataSource
        .createQueryBuilder()
        .select(['a.id AS id', 'a.endpoint_id AS endpoint_id'])
        .from('webhook_delivery_attempts', 'a')
        .orderBy('a.id')
        .getRawMany();
      expect(rows).toEqual([
        { id: 'att_old', endpoint_id: 'wh_old' },
        { id: 'att_orphan', endpoint_id: null },
      ]);
    } finally {
      if (first.isInitialized) await first.destroy();
      if (dataSource.isInitialized) await dataSource.destroy();
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
      const { body } = await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url('/migrated'), events: ['user.created'] })
        .expect(201);
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
