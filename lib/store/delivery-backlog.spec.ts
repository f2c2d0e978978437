import type { DataSource } from 'typeorm';
import { DeliveryBacklog, oldestPendingAgeMs } from './delivery-backlog';

/** A data source whose backlog query answers `rows` in turn, and counts how often it is run. */
function countingDataSource(rows: Array<{ pending: string | number; due: string | number | null }>) {
  const calls = { count: 0 };
  let release: () => void = () => undefined;
  const gate = { hold: false };
  const builder = {
    select: () => builder,
    addSelect: () => builder,
    where: () => builder,
    getRawOne: async () => {
      const row = rows[Math.min(calls.count, rows.length - 1)];
      calls.count++;
      if (gate.hold) await new Promise<void>((resolve) => (release = resolve));
      return row;
    },
  };
  const dataSource = { getRepository: () => ({ createQueryBuilder: () => builder }) } as unknown as DataSource;
  return { dataSource, calls, gate, release: () => release() };
}

describe('DeliveryBacklog', () => {
  it('reads once per interval however often it is asked, and concurrent callers share one query', async () => {
    const db = countingDataSource([
      { pending: '3', due: '1000' },
      { pending: 0, due: null },
    ]);
    const backlog = new DeliveryBacklog(db.dataSource);
    db.gate.hold = true;
    const first = Promise.all([backlog.read(60_000), backlog.read(60_000), backlog.read(60_000)]);
    db.release();
    const readings = await first;
    expect(db.calls.count).toBe(1);
    expect(readings.map((r) => [r.pending, r.oldestDueAt])).toEqual([
      [3, 1000],
      [3, 1000],
      [3, 1000],
    ]);
    db.gate.hold = false;
    expect((await backlog.read(60_000)).pending).toBe(3);
    expect(db.calls.count).toBe(1);
    const fresh = await backlog.read(0);
    expect(db.calls.count).toBe(2);
    expect([fresh.pending, fresh.oldestDueAt]).toEqual([0, null]);
  });

  it('ages only what is due: a retry not yet due waits for nothing', () => {
    expect(oldestPendingAgeMs({ pending: 1, oldestDueAt: 1_000, readAt: 0 }, 4_000)).toBe(3_000);
    expect(oldestPendingAgeMs({ pending: 1, oldestDueAt: 9_000, readAt: 0 }, 4_000)).toBe(0);
    expect(oldestPendingAgeMs({ pending: 0, oldestDueAt: null, readAt: 0 }, 4_000)).toBe(0);
  });
});
