import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver, type ReceivedRequest } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/** Runs the seed guide's Python `verify_signature`, unchanged, on one captured delivery. */
function pythonVerifies(payload: string, signature: string, secret: string): string {
  const script = join(process.cwd(), 'test', 'fixtures', 'verify_signature.py');
  return execFileSync('python3', [script], { input: JSON.stringify({ payload, signature, secret }) })
    .toString()
    .trim();
}

describe('signature interoperability with receivers written elsewhere', () => {
  let receiver: TestReceiver;
  let t: TestApp;
  let delivery: ReceivedRequest;
  let secret: string;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp();
    const owner = uniqueOwner();
    secret = (
      await t
        .api(owner)
        .post('/v1/webhooks')
        .send({ url: receiver.url('/interop'), events: ['user.created'] })
        .expect(201)
    ).body.secret;
    await t.publisher.emit(
      'user.created',
      { user_id: 'usr_456def', email: 'user@example.com', name: 'Zoë 🚀 "quoted" \\ back\nslash' },
      { ownerId: owner },
    );
    [delivery] = await waitFor('the delivery', () => receiver.at('/interop').length === 1 && receiver.at('/interop'));
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it("passes the guide's Python verify_signature, and fails it when tampered or keyed wrong", () => {
    const signature = delivery.headers['x-webhook-signature'] as string;
    expect(pythonVerifies(delivery.body, signature, secret)).toBe('valid');
    expect(pythonVerifies(delivery.body.replace('usr_456def', 'usr_evil'), signature, secret)).toBe('invalid');
    expect(pythonVerifies(delivery.body, signature, `${secret}x`)).toBe('invalid');
  });

  it('passes the standardwebhooks and svix verifiers', () => {
    const h = delivery.headers as Record<string, string>;
    const headers = {
      'webhook-id': h['webhook-id'],
      'webhook-timestamp': h['webhook-timestamp'],
      'webhook-signature': h['webhook-signature'],
    };
    const expected = JSON.parse(delivery.body);
    expect(expected.data.name).toBe('Zoë 🚀 "quoted" \\ back\nslash');
    expect(new Webhook(secret).verify(delivery.body, headers)).toEqual(expected);
    expect(
      new SvixWebhook(secret).verify(delivery.body, {
        'svix-id': h['webhook-id'],
        'svix-timestamp': h['webhook-timestamp'],
        'svix-signature': h['webhook-signature'],
      }),
    ).toEqual(expected);
    const stale = { ...headers, 'webhook-timestamp': String(Number(h['webhook-timestamp']) - 3_600) };
    expect(() => new Webhook(secret).verify(delivery.body, stale)).toThrow();
  });
});
