import { WebhooksOptionsError } from '../webhooks.errors.js';
import { generateWebhookSecret, WebhooksTestingModule, type WebhooksTestingModuleOptions } from './index.js';

const forRoot = (options: unknown) => () => WebhooksTestingModule.forRoot(options as WebhooksTestingModuleOptions);

describe('WebhooksTestingModule.forRoot options', () => {
  it('names the nearest option for an unknown key, as WebhooksModule does', () => {
    expect(forRoot({ evenTypes: [] })).toThrow(
      new WebhooksOptionsError(
        'unknown option "evenTypes" of WebhooksTestingModule.forRoot: did you mean eventTypes?',
        'WebhooksTestingModule',
      ),
    );
    expect(forRoot({ deliverto: 'http://127.0.0.1:1/' })).toThrow('did you mean deliverTo?');
    expect(forRoot({ authenticate: () => null })).toThrow(
      'WebhooksTestingModule: unknown option "authenticate" of WebhooksTestingModule.forRoot: ' +
        'valid ones are eventTypes, maxPayloadBytes, deliverTo, secret, isGlobal',
    );
  });

  it("checks the options it shares with WebhooksModule with WebhooksModule's own rules", () => {
    expect(forRoot({ maxPayloadBytes: 10 })).toThrow(
      'WebhooksTestingModule: option "maxPayloadBytes" must be an integer from 64 to 16777216, got 10',
    );
    expect(forRoot({ eventTypes: ['user created'] })).toThrow('WebhooksTestingModule: eventTypes[0] must be a dot-separated name');
    expect(forRoot({ eventTypes: ['a.b', 'a.b'] })).toThrow('eventTypes[1]: "a.b" is listed twice');
    expect(forRoot({ eventTypes: [{ name: 'a.b', descripton: 'x' }] })).toThrow(
      'unknown option "eventTypes[0].descripton": did you mean eventTypes[0].description?',
    );
    expect(forRoot({ isGlobal: 'yes' })).toThrow('option "isGlobal" must be true or false');
    expect(forRoot('options')).toThrow('WebhooksTestingModule: options must be an object');
    expect(forRoot(undefined)).not.toThrow();
  });

  it('needs an absolute http(s) URL and a secret in the issued format for deliverTo', () => {
    const secret = generateWebhookSecret();
    expect(forRoot({ deliverTo: 'http://127.0.0.1:4000/hook', secret })).not.toThrow();
    expect(forRoot({ deliverTo: '/hook', secret })).toThrow('option "deliverTo" must be an absolute http:// or https:// URL, got "/hook"');
    expect(forRoot({ deliverTo: 'ftp://127.0.0.1/hook', secret })).toThrow(
      'option "deliverTo" must be an absolute http:// or https:// URL',
    );
    expect(forRoot({ deliverTo: 42, secret })).toThrow('got number');
    expect(forRoot({ deliverTo: 'http://127.0.0.1:4000/hook' })).toThrow('option "secret" is required with deliverTo');
    expect(forRoot({ secret })).toThrow('option "secret" signs deliveries to deliverTo');
    const malformed = [
      's3cret-but-long-enough-to-be-a-key-xxxxxxx',
      'whsec_c2hvcnQ=',
      `${secret}!`,
      `whsec_${'A'.repeat(42)}B`,
      'whsec_',
      7,
    ];
    for (const bad of malformed) {
      expect(forRoot({ deliverTo: 'http://127.0.0.1:4000/hook', secret: bad })).toThrow(
        'option "secret" must be "whsec_" followed by base64 of 24-64 bytes',
      );
    }
  });
});
