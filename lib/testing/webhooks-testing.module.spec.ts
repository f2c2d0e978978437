import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { EntityManager } from 'typeorm';
import {
  InvalidEmitOptionsError,
  InvalidEventTypeError,
  InvalidPayloadError,
  ReservedEventTypeError,
  PayloadTooLargeError,
  UnknownEventTypeError,
  WebhookPublisher,
} from '../index.js';
import { isId } from '../utils/id.js';
import { WebhooksRecorder, WebhooksTestingModule, type WebhooksTestingModuleOptions } from './index.js';

/** What a host's service looks like: it injects the publisher from the main entry, nothing else. */
@Injectable()
class SignupService {
  constructor(private readonly publisher: WebhookPublisher) {}

  async signUp(accountId: string, userId: string): Promise<string> {
    const { id } = await this.publisher.emit(
      'user.created',
      { user_id: userId, tags: ['new'] },
      { ownerId: accountId, idempotencyKey: `signup-${userId}` },
    );
    return id;
  }
}

async function boot(options?: WebhooksTestingModuleOptions) {
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [WebhooksTestingModule.forRoot({ eventTypes: ['user.created', 'user.deleted'], ...options })],
    providers: [SignupService],
  }).compile();
  return {
    moduleRef,
    publisher: moduleRef.get(WebhookPublisher),
    recorder: moduleRef.get(WebhooksRecorder),
    signups: moduleRef.get(SignupService),
  };
}

describe('WebhooksTestingModule', () => {
  let t: Awaited<ReturnType<typeof boot>>;

  beforeEach(async () => {
    t = await boot();
  });

  afterEach(() => t.moduleRef.close());

  it('provides the real WebhookPublisher under its own token, with no data source, queue or Redis', () => {
    expect(t.publisher).toBeInstanceOf(WebhookPublisher);
    expect(t.moduleRef.get(WebhookPublisher)).toBe(t.publisher);
  });

  it('records each emitted event as a receiver would get it: id, type, owner, key, created_at and data', async () => {
    const before = Date.now();
    const id = await t.signups.signUp('acct_1', 'usr_1');
    const [event] = t.recorder.all();
    expect(t.recorder.all()).toHaveLength(1);
    expect(isId('evt', id)).toBe(true);
    expect(event).toMatchObject({
      id,
      type: 'user.created',
      ownerId: 'acct_1',
      idempotencyKey: 'signup-usr_1',
      inTransaction: false,
      delivery: null,
    });
    expect(event.data).toEqual({ user_id: 'usr_1', tags: ['new'] });
    expect(event.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(event.createdAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(JSON.parse(event.body)).toEqual({ id, type: 'user.created', created_at: event.createdAt.toISOString(), data: event.data });
  });

  it('keeps the data as JSON delivers it, not the object passed in', async () => {
    const at = new Date('2030-01-02T03:04:05.000Z');
    await t.publisher.emit('user.created', { at });
    expect(t.recorder.last()!.data).toEqual({ at: '2030-01-02T03:04:05.000Z' });
    expect(t.recorder.last()!.ownerId).toBe('default');
  });

  it('returns the first event id for a repeated owner and idempotency key, and records it once', async () => {
    const first = await t.signups.signUp('acct_1', 'usr_1');
    const again = await t.signups.signUp('acct_1', 'usr_1');
    const otherOwner = await t.signups.signUp('acct_2', 'usr_1');
    expect(again).toBe(first);
    expect(otherOwner).not.toBe(first);
    expect(t.recorder.all().map((event) => event.id)).toEqual([first, otherOwner]);

    const batch = await t.publisher.emitMany([
      { type: 'user.created', data: { n: 1 }, ownerId: 'acct_3', idempotencyKey: 'k' },
      { type: 'user.deleted', data: { n: 2 }, ownerId: 'acct_3', idempotencyKey: 'k' },
      { type: 'user.deleted', data: { n: 3 }, ownerId: 'acct_3', idempotencyKey: 'signup-usr_1' },
    ]);
    expect(batch[1].id).toBe(batch[0].id);
    expect(batch[2].id).not.toBe(first);
    expect(t.recorder.all()).toHaveLength(4);

    t.recorder.clear();
    expect(t.recorder.all()).toEqual([]);
    expect(await t.signups.signUp('acct_1', 'usr_1')).toBe(first);
    expect(t.recorder.all()).toEqual([]);
  });

  it('refuses what production refuses, with the same errors, and records nothing of a refused batch', async () => {
    const refused = (promise: Promise<unknown>) =>
      promise.then(
        () => null,
        (error: Error) => error,
      );
    expect(await refused(t.publisher.emit('user.updated', {}))).toBeInstanceOf(UnknownEventTypeError);
    expect(await refused(t.publisher.emit('user created', {}))).toBeInstanceOf(InvalidEventTypeError);
    expect(await refused(t.publisher.emit('user.created', {}, { ownerId: '' }))).toBeInstanceOf(InvalidEmitOptionsError);
    const key = await refused(t.publisher.emit('user.created', {}, { idempotencyKey: 'a\nb' }));
    expect(key).toBeInstanceOf(InvalidEmitOptionsError);
    expect(key!.message).toContain('found U+000A at index 1');
    const payload = await refused(t.publisher.emit('user.created', { user: { avatar: Buffer.from('x') } }));
    expect(payload).toBeInstanceOf(InvalidPayloadError);
    expect(payload!.message).toContain('data.user.avatar is a Buffer');
    expect(await refused(t.publisher.emit('user.created', [] as unknown as object))).toBeInstanceOf(InvalidPayloadError);
    expect(await refused(t.publisher.emitMany({} as never))).toBeInstanceOf(InvalidEmitOptionsError);

    const batch = refused(
      t.publisher.emitMany([
        { type: 'user.created', data: {} },
        { type: 'user.created', data: { n: undefined } },
      ]),
    );
    expect(await batch).toBeInstanceOf(InvalidPayloadError);
    expect(t.recorder.all()).toEqual([]);
    // webhook.* types are the module's own, as in production.
    expect(await refused(t.publisher.emit('webhook.endpoint.disabled', {}))).toBeInstanceOf(ReservedEventTypeError);
    expect(t.recorder.all()).toEqual([]);
  });

  it('caps payloads at maxPayloadBytes', async () => {
    const small = await boot({ maxPayloadBytes: 200 });
    try {
      const error = await small.publisher.emit('user.created', { s: 'x'.repeat(200) }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      await small.publisher.emit('user.created', { s: 'x' });
      expect(small.recorder.all()).toHaveLength(1);
    } finally {
      await small.moduleRef.close();
    }
  });

  it('marks events emitted inside a caller transaction', async () => {
    await t.publisher.emit('user.created', {}, { manager: {} as EntityManager });
    await t.publisher.emitMany([{ type: 'user.deleted', data: {} }], { manager: {} as EntityManager });
    await t.publisher.emit('user.deleted', {});
    expect(t.recorder.all().map((event) => event.inTransaction)).toEqual([true, true, false]);
  });

  it('filters by type and returns the latest', async () => {
    await t.publisher.emit('user.created', { n: 1 });
    await t.publisher.emit('user.deleted', { n: 2 });
    await t.publisher.emit('user.created', { n: 3 });
    expect(t.recorder.ofType<{ n: number }>('user.created').map((event) => event.data.n)).toEqual([1, 3]);
    expect(t.recorder.last()!.data).toEqual({ n: 3 });
    expect(t.recorder.last('user.deleted')!.data).toEqual({ n: 2 });
    expect(t.recorder.last('user.updated')).toBeUndefined();
  });

  it('waits for an event emitted without being awaited, or finds one already recorded', async () => {
    const waiting = t.recorder.waitFor((event) => event.ownerId === 'acct_9');
    void t.publisher.emit('user.deleted', {}, { ownerId: 'acct_8' });
    void t.publisher.emit('user.created', {}, { ownerId: 'acct_9' });
    expect((await waiting).ownerId).toBe('acct_9');
    expect((await t.recorder.waitFor('user.deleted')).ownerId).toBe('acct_8');
    const missing = await t.recorder.waitFor('user.updated', { timeoutMs: 20 }).catch((e: Error) => e);
    expect((missing as Error).message).toBe(
      'WebhooksRecorder: no event of type "user.updated" within 20 ms; recorded: user.deleted, user.created',
    );
  });

  it('keeps each app instance to its own record', async () => {
    const other = await boot();
    try {
      await other.publisher.emit('user.created', {});
      expect(other.recorder.all()).toHaveLength(1);
      expect(t.recorder.all()).toEqual([]);
    } finally {
      await other.moduleRef.close();
    }
  });

  it('is global unless isGlobal is false', async () => {
    @Module({ providers: [SignupService], exports: [SignupService] })
    class FeatureModule {}
    const global = await Test.createTestingModule({ imports: [WebhooksTestingModule.forRoot(), FeatureModule] }).compile();
    expect(global.get(SignupService)).toBeInstanceOf(SignupService);
    await global.close();
    const local = Test.createTestingModule({ imports: [WebhooksTestingModule.forRoot({ isGlobal: false }), FeatureModule] }).compile();
    await expect(local).rejects.toThrow(/WebhookPublisher/);
  });
});
