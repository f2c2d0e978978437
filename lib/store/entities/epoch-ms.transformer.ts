import type { ValueTransformer } from 'typeorm';

/**
 * Instants are stored as epoch milliseconds in a BIGINT: the same bytes on PostgreSQL, MariaDB and
 * SQLite, no session time-zone surprises, and cheap range scans. Drivers hand BIGINT back as strings.
 */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};
