import { jest } from '@jest/globals';
import {
  EmitFailedError,
  InvalidEmitOptionsError,
  InvalidEventTypeError,
  InvalidPayloadError,
  PayloadTooLargeError,
  UnknownEventTypeError,
  WebhookDeliveryEntity,
  WebhookEventEntity,
} from '../lib/index.js';
import { DeliveryDispatcher } from '../lib/dispatch/delivery-dispatcher.js';
import type { OwnedDeliveries } from '../lib/dispatch/owned-deliveries.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

const NO_CONTROL_CHARACTERS = 'must not contain control characters (U+0000-U+001F, U+007F-U+009F)';

describe('WebhookPublisher', () => {
  let receiver: TestReceiver;
  let t: TestApp;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp({ webhooks: { maxPayloadBytes: 2_048 } });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const register = async (ownerId: string, path: string, events = ['*']) =>
    (
      await t
        .api(ownerId)
        .post('/v1/webhooks')
        .send({ url: receiver.url(path), events })
        .expect(201)
    ).body as { id: string };

  /** The statuses of the owner's deliveries, once every one of them is final (nothing left to send). */
  const settled = (ownerId: string) =>
    waitFor(`${ownerId}'s deliveries to be final`, async () => {
      const rows = await t.dataSource
        .getRepository(WebhookDeliveryEntity)
        .createQueryBuilder('d')
        .innerJoin(WebhookEventEntity, 'e', 'e.id = d.event_id')
        .where('e.owner_id = :ownerId', { ownerId })
        .getMany();
      return rows.length > 0 && rows.every((row) => row.status !== 'pending') && rows.map((row) => row.status);
    });

  /** Every hand-over to the worker or the queue, by owner, from now on. */
  const watchDispatches = () => {
    const dispatcher = t.app.get(DeliveryDispatcher);
    const seen: OwnedDeliveries[] = [];
    const original = dispatcher.dispatch.bind(dispatcher);
    const spy = jest.spyOn(dispatcher, 'dispatch').mockImplementation((deliveries) => {
      seen.push(...deliveries);
      return original(deliveries);
    });
    return { ids: (ownerId: string) => seen.filter((d) => d.owner === ownerId).flatMap((d) => d.ids), restore: () => spy.mockRestore() };
  };

  const count = async (ownerId: string) => ({
    events: await t.dataSource.getRepository(WebhookEventEntity).count({ where: { ownerId } }),
    deliveries: await t.dataSource
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .innerJoin(WebhookEventEntity, 'e', 'e.id = d.event_id')
      .where('e.owner_id = :ownerId', { ownerId })
      .getCount(),
  });

  it('writes the event and one delivery per subscribed endpoint before emit resolves', async () => {
    const owner = uniqueOwner();
    await register(owner, '/p1');
    await register(owner, '/p2', ['user.*']);
    await register(owner, '/p3', ['order.paid']);
    const { id } = await t.publisher.emit('user.created', { user_id: 'u' }, { ownerId: owner });
    expect(id).toMatch(/^evt_[0-9A-Z]{26}$/);
    expect(await count(owner)).toEqual({ events: 1, deliveries: 2 });
  });

  it.each([
    ['an unknown type', () => ['user.vanished', {}], UnknownEventTypeError, 'Unknown event type "user.vanished"'],
    ['a malformed type', () => ['user created!', {}], InvalidEventTypeError, 'Invalid event type "user created!"'],
    ['a wildcard as type', () => ['user.*', {}], InvalidEventTypeError, 'Invalid event type'],
    ['non-object data', () => ['user.created', 'text'], InvalidPayloadError, 'data must be a plain object'],
    ['a BigInt', () => ['user.created', { n: 1n }], InvalidPayloadError, 'data.n is a BigInt'],
    ['a Buffer', () => ['user.created', { user: { avatar: Buffer.alloc(3) } }], InvalidPayloadError, 'data.user.avatar is a Buffer'],
    ['a Uint8Array', () => ['user.created', { bytes: new Uint8Array(4) }], InvalidPayloadError, 'data.bytes is a Uint8Array'],
    ['an undefined property', () => ['user.created', { user: { phone: undefined } }], InvalidPayloadError, 'data.user.phone is undefined'],
    ['an undefined array element', () => ['user.created', { tags: ['a', undefined] }], InvalidPayloadError, 'data.tags[1] is undefined'],
    [
      'a cycle',
      () => {
        const d: any = {};
        d.d = d;
        return ['user.created', d];
      },
      InvalidPayloadError,
      'circular',
    ],
    [
      'an oversized payload',
      () => ['user.created', { blob: 'x'.repeat(5_000) }],
      PayloadTooLargeError,
      'the limit is 2048 (maxPayloadBytes)',
    ],
  ] as const)('refuses %s with a typed error and writes nothing', async (_, args, type, message) => {
    const owner = uniqueOwner();
    await register(owner, '/never');
    const [eventType, data] = args();
    const error = await t.publisher.emit(eventType as string, data, { ownerId: owner }).catch((e) => e);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toContain(message);
    expect(await count(owner)).toEqual({ events: 0, deliveries: 0 });
  });

  it('stops serializing an oversized payload at the cap, without reading the rest of it', async () => {
    const owner = uniqueOwner();
    await register(owner, '/never-large');
    let readLater = false;
    const data = {
      blob: 'x'.repeat(1_000_000),
      get later() {
        readLater = true;
        return 'never needed';
      },
    };
    const error = await t.publisher.emit('user.created', data, { ownerId: owner }).catch((e) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ limit: 2_048, stoppedEarly: true });
    expect(readLater).toBe(false);
    expect(await count(owner)).toEqual({ events: 0, deliveries: 0 });
  });

  it('refuses bad owner ids and idempotency keys', async () => {
    await expect(t.publisher.emit('user.created', {}, { ownerId: '' })).rejects.toBeInstanceOf(InvalidEmitOptionsError);
    await expect(t.publisher.emit('user.created', {}, { ownerId: 'o'.repeat(192) })).rejects.toBeInstanceOf(InvalidEmitOptionsError);
    await expect(t.publisher.emit('user.created', {}, { idempotencyKey: '' })).rejects.toBeInstanceOf(InvalidEmitOptionsError);
    await expect(t.publisher.emit('user.created', {}, { ownerId: 42 as any })).rejects.toBeInstanceOf(InvalidEmitOptionsError);
  });

  it('refuses control characters in owner ids and idempotency keys, naming them, and writes nothing', async () => {
    const owner = uniqueOwner();
    await register(owner, '/never-control');
    for (const [options, message] of [
      [{ ownerId: `${owner}\u0000k` }, `ownerId ${NO_CONTROL_CHARACTERS}; found U+0000`],
      [{ ownerId: `${owner}\n` }, `ownerId ${NO_CONTROL_CHARACTERS}; found U+000A`],
      [{ ownerId: owner, idempotencyKey: 'k\u0000z' }, `idempotencyKey ${NO_CONTROL_CHARACTERS}; found U+0000 at index 1`],
      [{ ownerId: owner, idempotencyKey: 'k\u007f' }, 'found U+007F at index 1'],
      [{ ownerId: owner, idempotencyKey: '\u0085k' }, 'found U+0085 at index 0'],
    ] as const) {
      const error = await t.publisher.emit('user.created', {}, options).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidEmitOptionsError);
      expect(error.message).toContain(message);
    }
    const batch = t.publisher.emitMany([
      { type: 'user.created', data: {}, ownerId: owner, idempotencyKey: 'fine' },
      { type: 'user.created', data: {}, ownerId: owner, idempotencyKey: 'k\tz' },
    ]);
    await expect(batch).rejects.toThrow(new InvalidEmitOptionsError(`idempotencyKey ${NO_CONTROL_CHARACTERS}; found U+0009 at index 1`));
    expect(await count(owner)).toEqual({ events: 0, deliveries: 0 });
  });

  describe.each([':', '|', '/', ' ', '.', '\u00a0'])('owners and keys that a join on %p would confuse', (separator) => {
    // Owner `o` with key `k<sep>z`, and owner `o<sep>k` with key `z`.
    const pair = () => {
      const owner = uniqueOwner();
      return [
        { ownerId: owner, idempotencyKey: `k${separator}z` },
        { ownerId: `${owner}${separator}k`, idempotencyKey: 'z' },
      ];
    };

    const expectTwoEvents = async (pairs: Array<{ ownerId: string; idempotencyKey: string }>, ids: string[]) => {
      expect(new Set(ids).size).toBe(2);
      const events = t.dataSource.getRepository(WebhookEventEntity);
      for (const [i, { ownerId, idempotencyKey }] of pairs.entries()) {
        const stored = await events.find({ select: { id: true, ownerId: true, idempotencyKey: true }, where: { ownerId } });
        expect(stored).toEqual([{ id: ids[i], ownerId, idempotencyKey }]);
        // Still idempotent for each owner on its own.
        expect((await t.publisher.emit('user.created', {}, { ownerId, idempotencyKey })).id).toBe(ids[i]);
      }
    };

    it('stores one event each when emitted in one emitMany', async () => {
      const pairs = pair();
      const emitted = await t.publisher.emitMany(pairs.map((options) => ({ type: 'user.created', data: {}, ...options })));
      await expectTwoEvents(
        pairs,
        emitted.map((e) => e.id),
      );
    });

    it('stores one event each when emitted concurrently', async () => {
      const pairs = pair();
      const emitted = await Promise.all(pairs.map((options) => t.publisher.emit('user.created', {}, options)));
      await expectTwoEvents(
        pairs,
        emitted.map((e) => e.id),
      );
    });
  });

  it('yields one event for one idempotency key per owner, sequentially and concurrently', async () => {
    const [owner, other] = [uniqueOwner(), uniqueOwner()];
    await register(owner, '/idem');
    const first = await t.publisher.emit('user.created', { n: 1 }, { ownerId: owner, idempotencyKey: 'signup-1' });
    const again = await t.publisher.emit('user.created', { n: 2 }, { ownerId: owner, idempotencyKey: 'signup-1' });
    expect(again.id).toBe(first.id);
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => t.publisher.emit('user.updated', {}, { ownerId: owner, idempotencyKey: 'race' })),
    );
    expect(new Set(racing.map((e) => e.id)).size).toBe(1);
    const theirs = await t.publisher.emit('user.created', {}, { ownerId: other, idempotencyKey: 'signup-1' });
    expect(theirs.id).not.toBe(first.id);
    expect(await count(owner)).toEqual({ events: 2, deliveries: 2 });
    expect(await settled(owner)).toEqual(['succeeded', 'succeeded']);
    expect(receiver.at('/idem')).toHaveLength(2);
  });

  it('emits a batch in one call, all or nothing', async () => {
    const owner = uniqueOwner();
    await register(owner, '/batch', ['order.*']);
    const events = await t.publisher.emitMany(
      Array.from({ length: 120 }, (_, i) => ({ type: i % 2 ? 'order.paid' : 'order.refunded', data: { i }, ownerId: owner })),
    );
    expect(events).toHaveLength(120);
    expect(new Set(events.map((e) => e.id)).size).toBe(120);
    await waitFor('120 deliveries', () => receiver.at('/batch').length === 120);
    expect(new Set(receiver.at('/batch').map((r) => JSON.parse(r.body).data.i)).size).toBe(120);

    const bad = uniqueOwner();
    await register(bad, '/batch-bad');
    await expect(
      t.publisher.emitMany([
        { type: 'user.created', data: {}, ownerId: bad },
        { type: 'user.nope', data: {}, ownerId: bad },
      ]),
    ).rejects.toBeInstanceOf(UnknownEventTypeError);
    expect(await count(bad)).toEqual({ events: 0, deliveries: 0 });
    expect(await t.publisher.emitMany([])).toEqual([]);
  });

  describe("in the caller's transaction", () => {
    it('delivers after commit', async () => {
      const owner = uniqueOwner();
      await register(owner, '/tx-commit');
      const dispatches = watchDispatches();
      try {
        let inside: { id: string } | undefined;
        await t.dataSource.transaction(async (manager) => {
          inside = await t.publisher.emit('user.created', { via: 'tx' }, { ownerId: owner, manager });
          // Without a transaction, emit resolves only after the hand-over: inside one, nothing is handed over yet.
          expect(dispatches.ids(owner)).toEqual([]);
          expect(receiver.at('/tx-commit')).toHaveLength(0);
        });
        expect(dispatches.ids(owner)).toHaveLength(1);
        const [request] = await waitFor(
          'the delivery after commit',
          () => receiver.at('/tx-commit').length === 1 && receiver.at('/tx-commit'),
        );
        expect(JSON.parse(request.body).id).toBe(inside!.id);
      } finally {
        dispatches.restore();
      }
    });

    it('delivers nothing and stores nothing on rollback', async () => {
      const owner = uniqueOwner();
      await register(owner, '/tx-rollback');
      const dispatches = watchDispatches();
      try {
        await expect(
          t.dataSource.transaction(async (manager) => {
            await t.publisher.emit('user.created', { via: 'tx' }, { ownerId: owner, manager });
            await t.publisher.emitMany([{ type: 'user.updated', data: {}, ownerId: owner }], { manager });
            throw new Error('business rule failed');
          }),
        ).rejects.toThrow('business rule failed');
        expect(await count(owner)).toEqual({ events: 0, deliveries: 0 });
        // The next commit on the connection is when anything wrongly still held would be handed over.
        const marker = uniqueOwner();
        await register(marker, '/tx-rollback-marker');
        await t.dataSource.transaction((manager) => t.publisher.emit('user.created', {}, { ownerId: marker, manager }));
        await waitFor('the marker delivery', () => receiver.at('/tx-rollback-marker').length === 1);
        expect(dispatches.ids(marker)).toHaveLength(1);
        expect(dispatches.ids(owner)).toEqual([]);
        expect(receiver.at('/tx-rollback')).toHaveLength(0);
      } finally {
        dispatches.restore();
      }
    });

    it('keeps what an outer transaction commits when an inner savepoint rolls back', async () => {
      const owner = uniqueOwner();
      await register(owner, '/tx-savepoint');
      const runner = t.dataSource.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      const kept = await t.publisher.emit('user.created', { kept: true }, { ownerId: owner, manager: runner.manager });
      await runner.startTransaction();
      await t.publisher.emit('user.updated', { kept: false }, { ownerId: owner, manager: runner.manager });
      await runner.rollbackTransaction();
      await runner.commitTransaction();
      await runner.release();
      expect(await count(owner)).toEqual({ events: 1, deliveries: 1 });
      expect(await settled(owner)).toEqual(['succeeded']);
      expect(receiver.at('/tx-savepoint')).toHaveLength(1);
      expect(JSON.parse(receiver.at('/tx-savepoint')[0].body).id).toBe(kept.id);
    });
  });

  it('wraps database failures in EmitFailedError', async () => {
    const error = await t.publisher
      .emit(
        'user.created',
        {},
        {
          manager: {
            connection: t.dataSource,
            queryRunner: undefined,
            query: () => Promise.reject(new Error('connection refused')),
          } as any,
        },
      )
      .catch((e) => e);
    expect(error).toBeInstanceOf(EmitFailedError);
    expect(error.message).toBe('Webhook event was not stored: connection refused');
  });
});

describe('WebhookPublisher payload cap per database', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ webhooks: { maxPayloadBytes: 100_000 } });
  });

  afterAll(() => t.close());

  it('caps bodies at 65,535 bytes on MySQL/MariaDB (a TEXT column) and at maxPayloadBytes elsewhere', async () => {
    const owner = uniqueOwner();
    const limit = t.database.kind === 'mariadb' ? 65_535 : 100_000;
    const events = t.dataSource.getRepository(WebhookEventEntity);
    // Every envelope of one type has the same length: fixed-length id and timestamp.
    const { id: probe } = await t.publisher.emit('user.created', {}, { ownerId: owner });
    const envelope = (await events.findOneByOrFail({ id: probe })).body.length - '{}'.length;
    const fits = { s: 'x'.repeat(limit - envelope - '{"s":""}'.length) };
    const { id } = await t.publisher.emit('user.created', fits, { ownerId: owner });
    const stored = await events.findOneByOrFail({ id });
    expect(Buffer.byteLength(stored.body)).toBe(limit);
    expect(JSON.parse(stored.body).data).toEqual(fits);

    const error = await t.publisher.emit('user.created', { s: `${fits.s}x` }, { ownerId: owner }).catch((e) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ bytes: limit + 1, limit });
  });
});
