import { Inject } from '@nestjs/common';
import { WEBHOOKS_DATA_SOURCE, WEBHOOKS_OPTIONS, WEBHOOKS_REDIS } from './webhooks.constants.js';

/** Injects the module's options, validated and with every default filled in. */
export const InjectWebhooksOptions = (): ParameterDecorator => Inject(WEBHOOKS_OPTIONS);

/** Injects the TypeORM data source the module writes to (the host's, as `dataSourceName` names it). */
export const InjectWebhooksDataSource = (): ParameterDecorator => Inject(WEBHOOKS_DATA_SOURCE);

/** Injects the module's Redis connection (`WebhooksRedis`): the one its Bull queue uses. */
export const InjectWebhooksRedis = (): ParameterDecorator => Inject(WEBHOOKS_REDIS);
