import { explainEndpointUrl } from './endpoint-url-policy.js';

const strict = { allowHttp: false, allowPrivateNetworks: false };
const HTTP_REFUSED = 'url must use https (http:// needs the WebhooksModule option security.allowHttp: true, for development only)';
const PRIVATE_REFUSED =
  'url must not point at a private, loopback or link-local address ' +
  '(that needs the WebhooksModule option security.allowPrivateNetworks: true, for development only)';

describe('explainEndpointUrl', () => {
  it('accepts public https URLs and hostnames it has not resolved', () => {
    expect(explainEndpointUrl('https://example.com/webhook', strict)).toBeNull();
    expect(explainEndpointUrl('https://hooks.example.com:8443/a/b?x=1', strict)).toBeNull();
    expect(explainEndpointUrl('https://93.184.216.34/hook', strict)).toBeNull();
    expect(explainEndpointUrl('https://not-yet-registered.example/hook', strict)).toBeNull();
  });

  it.each([
    ['http://example.com/webhook', HTTP_REFUSED],
    ['ftp://example.com/', 'url must use https'],
    ['example.com/webhook', 'url must be an absolute URL such as https://example.com/webhooks'],
    ['https://user:pass@example.com/', 'url must not contain credentials'],
    ['https://example.com/#frag', 'url must not contain a fragment'],
    [' https://example.com/', 'url must not contain whitespace or control characters'],
    ['https://exa mple.com/', 'url must not contain whitespace or control characters'],
    ['', 'url must be a non-empty string'],
    [42, 'url must be a non-empty string'],
    [`https://example.com/${'a'.repeat(2048)}`, 'url must be at most 2048 characters'],
  ])('refuses %p', (url, message) => {
    expect(explainEndpointUrl(url, strict)).toBe(message);
  });

  it.each([
    'https://localhost/',
    'https://api.localhost/',
    'https://127.0.0.1/',
    'https://127.1/',
    'https://2130706433/',
    'https://0x7f000001/',
    'https://0.0.0.0/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.8/',
    'https://172.20.1.1/',
    'https://192.168.0.10/',
    'https://100.64.1.1/',
    'https://[fd00::1]/',
    'https://LOCALHOST./',
  ])('refuses the private literal %s', (url) => {
    expect(explainEndpointUrl(url, strict)).toBe(PRIVATE_REFUSED);
  });

  it('lets development setups opt into http and private targets', () => {
    const dev = { allowHttp: true, allowPrivateNetworks: true };
    expect(explainEndpointUrl('http://127.0.0.1:3000/hook', dev)).toBeNull();
    expect(explainEndpointUrl('http://localhost/hook', { ...dev, allowPrivateNetworks: false })).toBe(PRIVATE_REFUSED);
  });

  it('names the option that would allow a local receiver, one refusal at a time', () => {
    expect(explainEndpointUrl('http://127.0.0.1:4000/hook', strict)).toBe(HTTP_REFUSED);
    expect(explainEndpointUrl('http://127.0.0.1:4000/hook', { ...strict, allowHttp: true })).toBe(PRIVATE_REFUSED);
  });
});
