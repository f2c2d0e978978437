import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export interface Page<T> {
  data: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  next_cursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * Newest first by id (ids sort by creation time), reading one row more than asked to learn whether
 * another page exists without a COUNT.
 */
export async function pageNewestFirst<T extends ObjectLiteral & { id: string }>(
  query: SelectQueryBuilder<T>,
  alias: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ rows: T[]; next_cursor: string | null }> {
  if (cursor) query.andWhere(`${alias}.id < :cursor`, { cursor });
  const rows = await query
    .orderBy(`${alias}.id`, 'DESC')
    .take(limit + 1)
    .getMany();
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { rows: page, next_cursor: more ? page[page.length - 1].id : null };
}
