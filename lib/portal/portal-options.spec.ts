import { resolveWebhooksOptions } from '../config/resolve-options.js';
import type { WebhooksModuleRootOptions } from '../interfaces/webhooks-options.interface.js';
import { signPortalToken, verifyPortalToken } from './portal-token.js';

const KEY = 'k'.repeat(32);
const withPortal = (portal: unknown, extra: Partial<WebhooksModuleRootOptions> = {}) =>
  resolveWebhooksOptions({ authenticate: () => null, ...extra, portal } as WebhooksModuleRootOptions);

describe('portal option', () => {
  it('is off by default and with false', () => {
    expect(resolveWebhooksOptions({ authenticate: () => null }).portal).toBe(false);
    expect(withPortal(false).portal).toBe(false);
  });

  it('fills in defaults, and the page URL follows the path', () => {
    expect(withPortal({ signingKey: KEY }, { path: 'api/hooks' }).portal).toMatchObject({
      title: 'Webhooks',
      logoUrl: null,
      accentColor: '#2563eb',
      frameAncestors: ["'self'"],
      sessionTtlMs: 3_600_000,
      publicUrl: '/api/hooks/portal',
    });
  });

  it('derives a signing key from security.encryptionKey when none is given', () => {
    const portal = withPortal({}, { security: { encryptionKey: 'a'.repeat(64) } }).portal;
    expect(portal && portal.signingKey.length).toBe(32);
  });

  it.each([
    [{}, /option "portal.signingKey" is required/],
    [{ signingKey: 'short' }, /option "portal.signingKey" must be a string of at least 32 characters/],
    [{ signingKey: KEY, title: '' }, /option "portal.title" must be a string of 1-100 characters/],
    [{ signingKey: KEY, accentColor: 'red' }, /option "portal.accentColor" must be a colour/],
    [{ signingKey: KEY, accentColor: '#12345' }, /option "portal.accentColor"/],
    [{ signingKey: KEY, logoUrl: 'http://cdn.example.com/logo.png' }, /option "portal.logoUrl" must be an https:\/\/ URL/],
    [{ signingKey: KEY, logoUrl: "https://x.example.com/a.png'; script-src *" }, /option "portal.logoUrl"/],
    [{ signingKey: KEY, logoUrl: '//evil.example.com/a.png' }, /option "portal.logoUrl"/],
    [{ signingKey: KEY, frameAncestors: "'self'" }, /option "portal.frameAncestors" must be an array/],
    [{ signingKey: KEY, frameAncestors: ['https://a.example.com; script-src *'] }, /option "portal.frameAncestors\[0\]"/],
    [{ signingKey: KEY, frameAncestors: ["'none'", "'self'"] }, /"'none'" cannot be combined/],
    [{ signingKey: KEY, sessionTtlMs: 10 }, /option "portal.sessionTtlMs" must be an integer from 1000 to 604800000/],
    [{ signingKey: KEY, publicUrl: 'https://app.example.com/portal?x=1' }, /option "portal.publicUrl"/],
    [{ signingKey: KEY, titl: 'x' }, /unknown option "portal.titl": did you mean portal.title\?/],
    ['on', /option "portal" must be an object/],
  ])('refuses %j', (portal, message) => {
    expect(() => withPortal(portal)).toThrow(message);
  });
});

describe('portal tokens', () => {
  const key = Buffer.from(KEY);
  const claims = { ownerId: 'acme', permissions: ['webhooks:read'], expiresAt: 2_000 };

  it('verify with the key that signed them, until they expire', () => {
    const token = signPortalToken(key, claims);
    expect(verifyPortalToken(key, token, 1_999)).toEqual({ ok: true, claims });
    expect(verifyPortalToken(key, token, 2_000)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyPortalToken(Buffer.from('x'.repeat(32)), token, 1_000)).toEqual({ ok: false, reason: 'invalid' });
    expect(signPortalToken(key, claims)).not.toBe(token);
  });

  it('are refused when anything in them changes', () => {
    const token = signPortalToken(key, claims);
    const [payload, mac] = token.slice(4).split('.');
    const edited = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), o: 'other' })).toString(
      'base64url',
    );
    for (const forged of [
      `whp_${edited}.${mac}`,
      `whp_${payload}.${mac.slice(1)}x`,
      `whp_${payload}`,
      `whp_${payload}.${mac}.x`,
      token.slice(4),
    ]) {
      expect(verifyPortalToken(key, forged, 1_000)).toEqual({ ok: false, reason: 'invalid' });
    }
  });
});
