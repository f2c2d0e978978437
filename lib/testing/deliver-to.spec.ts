import { Test, type TestingModule } from '@nestjs/testing';
import { Webhook } from 'standardwebhooks';
import { TestReceiver } from '../../test/support/test-receiver.js';
import { WebhookPublisher } from '../index.js';
import { hexSignature } from '../security/signatures/body-hex.scheme.js';
import { USER_AGENT } from '../webhooks.constants.js';
import { generateWebhookSecret, WebhooksRecorder, WebhooksTestingModule } from './index.js';

describe('WebhooksTestingModule deliverTo', () => {
  let receiver: TestReceiver;
  const secret = generateWebhookSecret();

  beforeAll(async () => {
    receiver = await TestReceiver.start();
  });

  afterAll(() => receiver.close());

  async function boot(path: string) {
    const moduleRef: TestingModule = await Test.createTestingModule({
      imports: [WebhooksTestingModule.forRoot({ deliverTo: receiver.url(path), secret })],
    }).compile();
    return { moduleRef, publisher: moduleRef.get(WebhookPublisher), recorder: moduleRef.get(WebhooksRecorder) };
  }

  it('POSTs each event before emit resolves, signed both ways as the worker signs it', async () => {
    const t = await boot('/signed');
    try {
      const { id } = await t.publisher.emit('user.created', { user_id: 'usr_1' }, { ownerId: 'acct_1' });
      const [request] = receiver.at('/signed');
      expect(receiver.at('/signed')).toHaveLength(1);
      const event = t.recorder.last()!;
      expect(request.body).toBe(event.body);
      expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toEqual(JSON.parse(event.body));
      expect(request.headers['x-webhook-signature']).toBe(hexSignature(secret, request.body));
      expect(request.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': id,
        'x-webhook-event': 'user.created',
        'x-webhook-delivery': event.delivery!.id,
        'x-webhook-attempt': '1',
      });
      expect(event.delivery).toEqual({
        url: receiver.url('/signed'),
        id: expect.stringMatching(/^dlv_/),
        headers: expect.objectContaining({ 'webhook-signature': request.headers['webhook-signature'] }),
        statusCode: 200,
        error: null,
        responseBody: null,
      });
      await t.publisher.emit('user.created', { user_id: 'usr_1' }, { ownerId: 'acct_1', idempotencyKey: 'k' });
      await t.publisher.emit('user.created', { user_id: 'usr_1' }, { ownerId: 'acct_1', idempotencyKey: 'k' });
      expect(receiver.at('/signed')).toHaveLength(2);
    } finally {
      await t.moduleRef.close();
    }
  });

  it('records a refused delivery, sends it once and still resolves emit, as production does not fail an emit for a receiver', async () => {
    receiver.on('/refuses', { status: 500, body: 'broken' });
    const t = await boot('/refuses');
    const { id } = await t.publisher.emit('user.created', {});
    expect(t.recorder.last()!).toMatchObject({ id, delivery: { statusCode: 500, error: 'HTTP 500', responseBody: 'broken' } });
    // Closed, the module can send nothing more: one request is all there will be.
    await t.moduleRef.close();
    expect(receiver.at('/refuses')).toHaveLength(1);
  });

  it('records a receiver that is not listening', async () => {
    const gone = await TestReceiver.start();
    const url = gone.url('/hook');
    await gone.close();
    const moduleRef = await Test.createTestingModule({ imports: [WebhooksTestingModule.forRoot({ deliverTo: url, secret })] }).compile();
    try {
      await moduleRef.get(WebhookPublisher).emit('user.created', {});
      expect(moduleRef.get(WebhooksRecorder).last()!.delivery).toMatchObject({
        url,
        statusCode: null,
        error: expect.stringContaining('ECONNREFUSED'),
      });
    } finally {
      await moduleRef.close();
    }
  });

  it('delivers a batch in order, one POST per new event', async () => {
    const t = await boot('/batch');
    try {
      const events = await t.publisher.emitMany([
        { type: 'a.one', data: { n: 1 } },
        { type: 'a.two', data: { n: 2 }, idempotencyKey: 'x' },
        { type: 'a.three', data: { n: 3 }, idempotencyKey: 'x' },
      ]);
      expect(receiver.at('/batch').map((request) => request.headers['webhook-id'])).toEqual([events[0].id, events[1].id]);
      expect(t.recorder.all().map((event) => event.delivery!.statusCode)).toEqual([200, 200]);
    } finally {
      await t.moduleRef.close();
    }
  });
});
