import { Test, type TestingModule } from '@nestjs/testing';
import { generateWebhookSecret, WebhooksRecorder, WebhooksTestingModule } from 'nestjs-webhooks/testing';
import { WebhookReceiver } from '../../receiver/webhook-receiver.js';
import { UserEventsPublisher } from './user-events.publisher.js';
import type { User } from './user.entity.js';

/**
 * A host's integration test: events go, signed as the worker signs them, to the sample's own receiver,
 * which verifies both signatures (the guide's hex HMAC and Standard Webhooks) and answers 200 or 401.
 */
describe('UserEventsPublisher delivering to the receiver', () => {
  const secret = generateWebhookSecret();
  const user: User = { id: 'usr_1', accountId: 'acct_1', email: 'ada@example.com', name: null };
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start({ port: 0, host: '127.0.0.1', secret, path: '/webhook', log: () => undefined });
  });

  afterAll(() => receiver.close());

  async function boot(signingSecret: string): Promise<TestingModule> {
    return Test.createTestingModule({
      imports: [WebhooksTestingModule.forRoot({ eventTypes: ['user.created'], deliverTo: receiver.url, secret: signingSecret })],
      providers: [UserEventsPublisher],
    }).compile();
  }

  it('delivers user.created before publish resolves, and the receiver verifies it both ways', async () => {
    const moduleRef = await boot(secret);
    try {
      const eventId = await moduleRef.get(UserEventsPublisher).publish('user.created', user);

      const received = receiver.deliveries.find((delivery) => delivery.webhookId === eventId);
      expect(received).toMatchObject({
        eventId,
        eventType: 'user.created',
        data: { user_id: 'usr_1', email: 'ada@example.com' },
        attempt: 1,
        guideSignatureOk: true,
        standardSignatureOk: true,
        status: 200,
      });
      expect(moduleRef.get(WebhooksRecorder).last()!.delivery).toMatchObject({ statusCode: 200, id: received!.deliveryId });
    } finally {
      await moduleRef.close();
    }
  });

  it('is refused by the receiver when signed with another secret', async () => {
    const moduleRef = await boot(generateWebhookSecret());
    try {
      const eventId = await moduleRef.get(UserEventsPublisher).publish('user.created', user);

      expect(receiver.deliveries.find((delivery) => delivery.webhookId === eventId)).toMatchObject({
        guideSignatureOk: false,
        standardSignatureOk: false,
        status: 401,
      });
      expect(moduleRef.get(WebhooksRecorder).last()!.delivery).toMatchObject({ statusCode: 401, error: 'HTTP 401' });
    } finally {
      await moduleRef.close();
    }
  });
});
