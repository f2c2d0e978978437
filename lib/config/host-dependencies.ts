import { getSharedConfigToken } from '@nestjs/bull';
import { Logger, type Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { WEBHOOKS_DATA_SOURCE } from '../webhooks.constants.js';
import { WebhooksSetupError } from '../webhooks.errors.js';

/**
 * The host's TypeORM data source, or a boot error that says what to add. Every provider of the module
 * reaches the data source through this one, so a missing `TypeOrmModule.forRoot` surfaces here rather
 * than as Nest's generic "can't resolve dependencies" about one of them.
 */
export function hostDataSourceProvider(dataSourceName: string | undefined): Provider {
  return {
    provide: WEBHOOKS_DATA_SOURCE,
    inject: [{ token: getDataSourceToken(dataSourceName), optional: true }],
    useFactory: (dataSource: DataSource | undefined) => {
      if (dataSource) return dataSource;
      const named = dataSourceName !== undefined;
      const which = named ? `the TypeORM data source named "${dataSourceName}" (option dataSourceName)` : 'the default TypeORM data source';
      const add = named ? `TypeOrmModule.forRoot({ name: '${dataSourceName}', ... })` : 'TypeOrmModule.forRoot({ ... })';
      throw new WebhooksSetupError(`needs ${which}, and the app registers none: add ${add} (or forRootAsync) to the root module's imports`);
    },
  };
}

/** Token of a provider that exists only to run the check below at boot. */
const BULL_ROOT_CHECK = 'nestjs-webhooks:bull-root-check';

/**
 * Without `BullModule.forRoot`, @nestjs/bull quietly connects the queue to 127.0.0.1:6379. That is
 * rarely what a host meant, so the boot says so; it does not fail, since a local Redis may be intended.
 */
export const bullRootConfigCheck: Provider = {
  provide: BULL_ROOT_CHECK,
  inject: [{ token: getSharedConfigToken(), optional: true }],
  useFactory: (sharedConfig: unknown) => {
    if (sharedConfig !== undefined) return true;
    new Logger('WebhooksModule').warn(
      "BullModule.forRoot is not registered, so the webhooks queue uses Bull's default Redis at 127.0.0.1:6379. " +
        "Add BullModule.forRoot({ redis: process.env.REDIS_URL }) (or forRootAsync) to the root module's imports.",
    );
    return false;
  },
};
