import { Test, type TestingModule } from '@nestjs/testing';
import { InvalidPayloadError, UnknownEventTypeError } from 'nestjs-webhooks';
import { WebhooksRecorder, WebhooksTestingModule } from 'nestjs-webhooks/testing';
import { USER_EVENT_TYPES, type UserEventData, type UserEventType } from './user-events.js';
import { UserEventsPublisher } from './user-events.publisher.js';
import type { User } from './user.entity.js';

/** A host's unit test: the app's own service on `WebhooksTestingModule`, with no database, Redis, TypeORM or Bull. */
describe('UserEventsPublisher', () => {
  let moduleRef: TestingModule;
  let events: UserEventsPublisher;
  let webhooks: WebhooksRecorder;

  const user: User = { id: 'usr_1', accountId: 'acct_1', email: 'ada@example.com', name: 'Ada' };

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      // The app's catalog, as in webhooks.options.ts: an unlisted type fails here as it would in production.
      imports: [WebhooksTestingModule.forRoot({ eventTypes: [...USER_EVENT_TYPES] })],
      providers: [UserEventsPublisher],
    }).compile();
    events = moduleRef.get(UserEventsPublisher);
    webhooks = moduleRef.get(WebhooksRecorder);
  });

  afterEach(() => moduleRef.close());

  it('emits user.created to the account, with the user id and email', async () => {
    const eventId = await events.publish('user.created', user);

    const [event] = webhooks.ofType<UserEventData>('user.created');
    expect(webhooks.all()).toHaveLength(1);
    expect(event.id).toBe(eventId);
    expect(event.ownerId).toBe('acct_1');
    expect(event.data).toEqual({ user_id: 'usr_1', email: 'ada@example.com' });
    expect(event.idempotencyKey).toBeNull();
    expect(JSON.parse(event.body).created_at).toBe(event.createdAt.toISOString());
  });

  it('keeps each account to its own events', async () => {
    await events.publish('user.created', user);
    await events.publish('user.deleted', { ...user, accountId: 'acct_2' });
    expect(webhooks.all().map((event) => [event.type, event.ownerId])).toEqual([
      ['user.created', 'acct_1'],
      ['user.deleted', 'acct_2'],
    ]);
  });

  it('fails as production would on a user without an email, and on a type outside the catalog', async () => {
    const incomplete = { ...user, email: undefined } as unknown as User;
    await expect(events.publish('user.created', incomplete)).rejects.toThrow(InvalidPayloadError);
    await expect(events.publish('user.renamed' as UserEventType, user)).rejects.toThrow(UnknownEventTypeError);
    expect(webhooks.all()).toEqual([]);
  });
});
