import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/** Bound parameters per statement, under SQLite's and PostgreSQL's limits with room to spare. */
const MAX_PARAMETERS = 16_000;

/** Collects bound values and hands out placeholders in the driver's own style ($1 or ?). */
export class SqlParameters {
  readonly values: unknown[] = [];

  constructor(private readonly dataSource: DataSource) {}

  add(value: unknown): string {
    this.values.push(value);
    return this.dataSource.driver.createParameter(`p${this.values.length - 1}`, this.values.length - 1);
  }

  list(values: readonly unknown[]): string {
    return values.map((value) => this.add(value)).join(', ');
  }
}

/**
 * Hand-written SQL for the few statements on the delivery hot path. TypeORM's query builder spends
 * more CPU preparing a 500-row INSERT than the database spends running it (measured with
 * `npm run bench -- --profile`); these statements are simple enough to write portably by hand.
 */
export class SqlWriter {
  constructor(readonly dataSource: DataSource) {}

  parameters(): SqlParameters {
    return new SqlParameters(this.dataSource);
  }

  table(entity: EntityTarget<ObjectLiteral>): string {
    const path = this.dataSource.getMetadata(entity).tablePath;
    return path
      .split('.')
      .map((part) => this.dataSource.driver.escape(part))
      .join('.');
  }

  column(name: string): string {
    return this.dataSource.driver.escape(name);
  }

  /** Multi-row INSERT of plain rows (property names as on the entity), chunked under parameter limits. */
  async insert(manager: EntityManager, entity: EntityTarget<ObjectLiteral>, rows: readonly ObjectLiteral[]): Promise<void> {
    if (rows.length === 0) return;
    const metadata = this.dataSource.getMetadata(entity);
    const columns = metadata.columns;
    const head = `INSERT INTO ${this.table(entity)} (${columns.map((c) => this.column(c.databaseName)).join(', ')}) VALUES `;
    const perChunk = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
    for (let start = 0; start < rows.length; start += perChunk) {
      const parameters = this.parameters();
      const tuples = rows
        .slice(start, start + perChunk)
        .map((row) => `(${parameters.list(columns.map((c) => this.dataSource.driver.preparePersistentValue(row[c.propertyName] ?? null, c)))})`);
      await manager.query(head + tuples.join(', '), parameters.values);
    }
  }
}
