import { WaitingRoom } from './waiting-room.js';

describe('WaitingRoom', () => {
  it('lets a single owner fill the room, and admits its next batch once there is space', async () => {
    const room = new WaitingRoom(100);
    expect(room.grant('solo', 150)).toBe(100);
    let admitted: boolean | undefined;
    const waiting = room.admit('solo', 50, 10_000).then((value) => (admitted = value));
    await Promise.resolve();
    expect(admitted).toBeUndefined();
    room.leave('solo', 1);
    await waiting;
    expect(admitted).toBe(true);
    expect(room.size).toBe(149);
  });

  it('gives a newcomer its share of a room another owner filled, up to twice the capacity in all', () => {
    const room = new WaitingRoom(100);
    room.grant('noisy', 100);
    expect(room.grant('quiet', 1)).toBe(1);
    expect(room.grant('quiet', 80)).toBe(49); // its share: half the room, now that two owners wait
    expect(room.grant('third', 80)).toBe(34);
    expect(room.grant('fourth', 80)).toBe(16); // what is left of twice the capacity
    expect(room.size).toBe(200);
    expect(room.grant('noisy', 1)).toBe(0);
  });

  it('sends back a batch whose owner holds its share while other owners wait', async () => {
    const room = new WaitingRoom(100);
    room.grant('noisy', 60);
    room.grant('quiet', 1);
    expect(await room.admit('noisy', 50, 10_000)).toBe(false);
    expect(await room.admit('quiet', 50, 10_000)).toBe(true);
  });

  it('sends back a waiting batch when another owner starts waiting', async () => {
    const room = new WaitingRoom(100);
    room.grant('noisy', 100);
    const waiting = room.admit('noisy', 50, 10_000);
    room.grant('quiet', 1);
    room.leave('noisy', 1);
    expect(await waiting).toBe(false);
  });

  it('gives up on a batch after its patience, and turns everything away once closed', async () => {
    const room = new WaitingRoom(10);
    room.grant('solo', 10);
    expect(await room.admit('solo', 5, 20)).toBe(false);
    const waiting = room.admit('solo', 5, 10_000);
    room.close();
    expect(await waiting).toBe(false);
    expect(room.grant('other', 1)).toBe(0);
  });

  it('lets an owner hold at most one job slot waiting while other owners were seen lately', async () => {
    let now = 0;
    const room = new WaitingRoom(100, 60_000, () => now);
    room.grant('quiet', 1);
    room.leave('quiet', 1);
    room.grant('noisy', 100);
    const first = room.admit('noisy', 50, 10_000);
    expect(await room.admit('noisy', 50, 10_000)).toBe(false); // sent back at once
    now += 60_001; // nobody else for a minute: a single owner's jobs may all wait again
    const third = room.admit('noisy', 50, 10_000);
    room.leave('noisy', 60);
    expect(await first).toBe(true);
    expect(await third).toBe(true);
  });
});
