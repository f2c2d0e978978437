import { privateHostLiteral } from './ssrf-guard.js';

export const MAX_URL_LENGTH = 2048;

// Whoever registers a local receiver while trying the module out needs to learn which switch allows it.
const HTTP_REFUSED = 'url must use https (http:// needs the WebhooksModule option security.allowHttp: true, for development only)';
const PRIVATE_REFUSED =
  'url must not point at a private, loopback or link-local address ' +
  '(that needs the WebhooksModule option security.allowPrivateNetworks: true, for development only)';

export interface EndpointUrlRules {
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
}

/**
 * Why an endpoint URL is refused at registration, or null when it may be stored. Hostnames are not
 * resolved here (an endpoint may be registered before its DNS exists); they are vetted at send time.
 */
export function explainEndpointUrl(value: unknown, rules: EndpointUrlRules): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'url must be a non-empty string';
  if (value.length > MAX_URL_LENGTH) return `url must be at most ${MAX_URL_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (value !== value.trim() || /[\u0000-\u001f\u007f\s]/.test(value)) return 'url must not contain whitespace or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'url must be an absolute URL such as https://example.com/webhooks';
  }
  if (url.protocol !== 'https:' && !(rules.allowHttp && url.protocol === 'http:')) {
    if (rules.allowHttp) return 'url must use https or http';
    return url.protocol === 'http:' ? HTTP_REFUSED : 'url must use https';
  }
  if (url.username || url.password) return 'url must not contain credentials';
  if (url.hash) return 'url must not contain a fragment';
  if (!url.hostname) return 'url must name a host';
  if (!rules.allowPrivateNetworks && privateHostLiteral(url.hostname) !== null) {
    return PRIVATE_REFUSED;
  }
  return null;
}
