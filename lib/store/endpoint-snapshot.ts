import { rawBoolean } from './sql-writer.js';
import { WebhookEndpointEntity } from './entities/webhook-endpoint.entity.js';

/** The endpoint columns sending a delivery needs, read by plain SQL beside the delivery itself. */
export const ENDPOINT_SNAPSHOT_COLUMNS = ['owner_id', 'url', 'enabled', 'secret', 'retired_secrets', 'failing_since', 'failure_count'];

/** A raw row's value as the driver returns it. */
export type RawValue = string | number | boolean | null;

/**
 * The endpoint as sending sees it, built from a raw row whose snapshot columns carry `prefix` (the
 * claim reads them through a join as `endpoint_url` and so on; the fan-out reads them bare).
 */
export function endpointSnapshot(id: string, row: Record<string, RawValue | undefined>, prefix = ''): WebhookEndpointEntity {
  const value = (name: string) => row[`${prefix}${name}`] ?? null;
  const retired = value('retired_secrets');
  const failingSince = value('failing_since');
  return Object.assign(new WebhookEndpointEntity(), {
    id,
    ownerId: String(value('owner_id')),
    url: String(value('url')),
    enabled: rawBoolean(value('enabled')),
    secret: String(value('secret')),
    retiredSecrets: retired === null ? null : JSON.parse(String(retired)),
    failingSince: failingSince === null ? null : Number(failingSince),
    failureCount: Number(value('failure_count')),
  });
}
