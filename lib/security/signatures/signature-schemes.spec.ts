import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateSecret } from '../webhook-secret.js';
import { hexSignature } from './body-hex.scheme.js';
import { standardSignature, standardSignatureHeader } from './standard-webhooks.scheme.js';
import type { EndpointSecrets } from '../endpoint-secrets.js';
import { WebhookSigner } from './webhook-signer.js';

describe('signature', () => {
  const body = '{"id":"evt_1","type":"user.created","created_at":"2026-01-01T12:00:00.000Z","data":{"n":"é"}}';

  it('generates whsec_ secrets of 32 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toEqual(secret);
  });

  it('produces a v1 signature that the standardwebhooks verifier accepts', () => {
    const secret = generateSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardSignature(secret, 'evt_1', timestamp, body),
    };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('lists one entry per live secret, each verifiable on its own', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const timestamp = Math.floor(Date.now() / 1000);
    const header = standardSignatureHeader([newSecret, oldSecret], 'evt_1', timestamp, body);
    expect(header.split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': header };
      expect(new Webhook(secret).verify(body, headers)).toBeTruthy();
    }
  });

  it('signs the raw body in hex with the whole secret string as key, like the seed guide', () => {
    const secret = 'whsec_example';
    expect(hexSignature(secret, body)).toEqual(createHmac('sha256', secret).update(body, 'utf8').digest('hex'));
    expect(hexSignature(secret, body)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('WebhookSigner', () => {
  it('adds the headers of every scheme from the live secrets, the newest first', () => {
    const [current, previous] = [generateSecret(), generateSecret()];
    const secrets = { liveSecrets: () => [current, previous] } as unknown as EndpointSecrets;
    const message = { id: 'evt_1', timestamp: 1_767_268_800, body: '{"id":"evt_1"}' };
    const headers = new WebhookSigner(secrets).headers(message, { secret: 'sealed', retiredSecrets: null }, Date.now());
    expect(headers).toEqual({
      'webhook-id': 'evt_1',
      'webhook-timestamp': '1767268800',
      'webhook-signature': standardSignatureHeader([current, previous], 'evt_1', 1_767_268_800, message.body),
      'x-webhook-signature': hexSignature(current, message.body),
    });
  });
});
