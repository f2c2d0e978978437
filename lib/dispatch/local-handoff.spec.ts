import { newDelivery } from '../emit/event-writer.js';
import { WebhookEndpointEntity } from '../store/entities/webhook-endpoint.entity.js';
import type { ClaimedDelivery } from '../store/delivery-store.js';
import { LocalHandoff, type LocalLease, type LocalWorker } from './local-handoff.js';

/** A worker with `room` free places per owner that records what it is given. */
class RecordingWorker implements Pick<LocalWorker, 'reserve' | 'release' | 'adopt'> {
  reserved = 0;
  adopted: ClaimedDelivery[] = [];
  readonly reservedBy = new Map<string, number>();
  private leases = 0;

  constructor(private readonly room: number) {}

  reserve(owner: string, count: number): LocalLease | null {
    const granted = Math.min(count, this.room - (this.reservedBy.get(owner) ?? 0));
    if (granted === 0) return null;
    this.reservedBy.set(owner, (this.reservedBy.get(owner) ?? 0) + granted);
    this.reserved += granted;
    return { token: `lease-${++this.leases}`, until: 5_000, count: granted };
  }

  release(owner: string, count: number): void {
    this.reservedBy.set(owner, this.reservedBy.get(owner)! - count);
    this.reserved -= count;
  }

  adopt(owner: string, items: ClaimedDelivery[]): void {
    expect(items.every((item) => item.endpoint?.ownerId === owner)).toBe(true);
    this.adopted.push(...items);
  }
}

describe('LocalHandoff', () => {
  const event = { id: 'evt_1', type: 'user.created', createdAt: 1_000 };
  const endpoint = Object.assign(new WebhookEndpointEntity(), { id: 'ep_1', ownerId: 'acme' });
  const deliveries = () => [
    newDelivery(event, 'ep_1', true),
    newDelivery(event, 'ep_2', false),
    newDelivery(event, 'ep_1', true),
    newDelivery(event, 'ep_1', true),
  ];
  const lease = (handoff: LocalHandoff, rows: ReturnType<typeof deliveries>) =>
    handoff.lease(
      rows,
      () => ({ body: '{"id":"evt_1"}' }),
      () => endpoint,
    );

  it('leases only pending deliveries, no more than the worker has room for, and starts them after the commit', () => {
    const worker = new RecordingWorker(2);
    const handoff = new LocalHandoff(worker);
    const rows = deliveries();
    lease(handoff, rows);

    expect(rows.map((row) => row.leaseToken)).toEqual(['lease-1', null, 'lease-1', null]);
    expect(rows[0].leaseUntil).toBe(5_000);
    expect(rows[1]).toMatchObject({ status: 'skipped', leaseUntil: null });
    expect(worker.adopted).toEqual([]);

    handoff.start();
    expect(worker.adopted.map((item) => item.delivery.id)).toEqual([rows[0].id, rows[2].id]);
    expect(worker.adopted[0]).toMatchObject({
      body: '{"id":"evt_1"}',
      endpoint,
      delivery: { leaseToken: 'lease-1', leaseUntil: 5_000, attemptCount: 0 },
    });
    expect(worker.reserved).toBe(2);
  });

  it('gives the room back when the write fails, and when a retried write leases again', () => {
    const worker = new RecordingWorker(3);
    const handoff = new LocalHandoff(worker);
    lease(handoff, deliveries());
    expect(worker.reserved).toBe(3);
    const retried = deliveries();
    lease(handoff, retried);
    expect(worker.reserved).toBe(3);
    expect(retried.filter((row) => row.leaseToken === 'lease-2')).toHaveLength(3);

    handoff.cancel();
    expect(worker.reserved).toBe(0);
    handoff.start();
    expect(worker.adopted).toEqual([]);
  });

  it('leaves everything unleased when the worker has no room', () => {
    const worker = new RecordingWorker(0);
    const handoff = new LocalHandoff(worker);
    const rows = deliveries();
    lease(handoff, rows);
    expect(rows.every((row) => row.leaseToken === null)).toBe(true);
    handoff.start();
    expect(worker.adopted).toEqual([]);
  });

  it('reserves room for each owner on its own', () => {
    const worker = new RecordingWorker(1);
    const handoff = new LocalHandoff(worker);
    const owners = new Map([
      ['ep_a', Object.assign(new WebhookEndpointEntity(), { id: 'ep_a', ownerId: 'a' })],
      ['ep_b', Object.assign(new WebhookEndpointEntity(), { id: 'ep_b', ownerId: 'b' })],
    ]);
    const rows = [newDelivery(event, 'ep_a', true), newDelivery(event, 'ep_a', true), newDelivery(event, 'ep_b', true)];
    handoff.lease(
      rows,
      () => ({ body: '{}' }),
      (id) => owners.get(id)!,
    );
    expect(rows.map((row) => row.leaseToken !== null)).toEqual([true, false, true]);
    expect([...worker.reservedBy]).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    handoff.start();
    expect(worker.adopted.map((item) => item.endpoint?.ownerId)).toEqual(['a', 'b']);
  });
});
