import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEndpointEntity, WebhookEventEntity } from '../lib/index.js';
import {
  closeAgent,
  describeSnapshotChanges,
  encodeSegment,
  mapLimit,
  send,
  snapshotTables,
  utf8Header,
  type RawRequest,
  type RawResponse,
} from './support/hostile-requests.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-database.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

/**
 * Issue: "A test that sends at least 200 malformed or hostile requests to every management route
 * (bad JSON, wrong types, huge bodies, unicode tricks, unknown fields, other owners' ids,
 * missing/invalid auth) and asserts no 5xx, the right 4xx, and an unchanged database."
 *
 * A victim owns two endpoints (one enabled with a delivered event, one disabled with a skipped one);
 * an attacker owns one. The barrage runs against an app configured as in production (https only,
 * no private targets) with rate limiting off, so that 429s cannot hide the real answers. Every case
 * names what it sends and the exact status it must get; all mismatches, every changed row and any
 * Object.prototype pollution are reported together in one assertion.
 *
 * Who answers first decides the status, so the expectations follow the request pipeline:
 *   Node's HTTP parser (431 huge headers, 400 NUL in a header) → Express's body parser (400 broken
 *   JSON, 413 over 100 KB, 415 charset/encoding: before authentication) → route matching (Nest's 404
 *   "Cannot GET …", also before authentication) → auth guard (401, 403) → validation pipe (400, before
 *   any lookup, so an invalid body on someone else's id is 400, as for a missing id) → service (404 for
 *   other owners' and malformed ids alike, 409 for state conflicts).
 * Judgement calls: a non-JSON body on a route that takes one is 415 (the API is JSON; today form bodies
 * are parsed and applied); `__proto__`, `constructor`, `prototype` and other Object.prototype names are
 * unknown fields like any other (400), never silently dropped.
 */

const ROUTES = [
  'POST /',
  'GET /',
  'GET /event-types',
  'GET /:id',
  'PATCH /:id',
  'DELETE /:id',
  'POST /:id/rotate-secret',
  'POST /:id/revoke-previous-secret',
  'GET /:id/secret',
  'POST /:id/test',
  'POST /:id/recover',
  'GET /:id/deliveries',
  'GET /:id/deliveries/:deliveryId',
  'POST /:id/deliveries/:deliveryId/retry',
] as const;
type Route = (typeof ROUTES)[number] | 'unrouted';

/**
 * Who answers: the module ({statusCode, error, message}), Express's body parser via Nest ({statusCode, message}),
 * or Node's HTTP parser (no JSON).
 */
type Answerer = 'app' | 'parser' | 'node';

interface Case {
  route: Route;
  /** What is sent, in words. */
  name: string;
  req: RawRequest;
  expect: number;
  /** A substring of the error message (an array of messages is joined with newlines). */
  message?: string;
  by?: Answerer;
  /** Extra check on a successful answer: returns what is wrong, or null. */
  check?: (res: RawResponse) => string | null;
}

interface Fixtures {
  victim: string;
  attacker: string;
  /** The victim's enabled endpoint, with one succeeded delivery. */
  vEp: string;
  /** The victim's disabled endpoint, with one skipped delivery. */
  vOff: string;
  /** The attacker's own endpoint. */
  aEp: string;
  vDlv: string;
  vSkip: string;
  vEvt: string;
  vAtt: string;
}

const JSON_TYPE = 'application/json';
const VALID_ENDPOINT = { url: 'https://hooks.example.com/in', events: ['user.created'] };
const VALID_RECOVER = { since: '2000-01-01T00:00:00.000Z' };
const HTTP_REFUSED = 'url must use https (http:// needs the WebhooksModule option security.allowHttp: true, for development only)';
const BODY_LIMIT = 100 * 1024; // Express's default JSON limit, which Nest installs

const bearer = (role: 'owner' | 'read' | 'nobody', ownerId: string) => `Bearer ${role}:${ownerId}`;
const deep = (depth: number, open: string, close: string, inner = '') => open.repeat(depth) + inner + close.repeat(depth);
const fullwidth = (text: string) => text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

interface Send {
  method: string;
  path: string;
  auth: string | null;
  json?: unknown;
  /** Sent instead of `json` when both are given. */
  raw?: string | Buffer;
  /** Defaults to application/json when there is a body; null sends none. */
  contentType?: string | null;
  headers?: Record<string, string>;
  chunked?: boolean;
  rawSocket?: boolean;
}

function build(s: Send): RawRequest {
  const headers: Record<string, string> = { ...s.headers };
  if (s.auth !== null) headers.Authorization = s.auth;
  const body = s.raw ?? (s.json === undefined ? undefined : JSON.stringify(s.json));
  if (body !== undefined && s.contentType !== null) headers['Content-Type'] = s.contentType ?? JSON_TYPE;
  return { method: s.method, path: s.path, headers, body, chunked: s.chunked, rawSocket: s.rawSocket };
}

/** Method, path and (for writes that take one) a valid body of each route, aimed at the given ids. */
function routeRequest(route: (typeof ROUTES)[number], id: string, deliveryId: string): { method: string; path: string; json?: unknown } {
  const base = '/v1/webhooks';
  switch (route) {
    case 'POST /':
      return { method: 'POST', path: base, json: VALID_ENDPOINT };
    case 'GET /':
      return { method: 'GET', path: base };
    case 'GET /event-types':
      return { method: 'GET', path: `${base}/event-types` };
    case 'GET /:id':
      return { method: 'GET', path: `${base}/${id}` };
    case 'PATCH /:id':
      return { method: 'PATCH', path: `${base}/${id}`, json: { description: 'pwned' } };
    case 'DELETE /:id':
      return { method: 'DELETE', path: `${base}/${id}` };
    case 'POST /:id/rotate-secret':
      return { method: 'POST', path: `${base}/${id}/rotate-secret` };
    case 'POST /:id/revoke-previous-secret':
      return { method: 'POST', path: `${base}/${id}/revoke-previous-secret` };
    case 'GET /:id/secret':
      return { method: 'GET', path: `${base}/${id}/secret` };
    case 'POST /:id/test':
      return { method: 'POST', path: `${base}/${id}/test` };
    case 'POST /:id/recover':
      return { method: 'POST', path: `${base}/${id}/recover`, json: VALID_RECOVER };
    case 'GET /:id/deliveries':
      return { method: 'GET', path: `${base}/${id}/deliveries` };
    case 'GET /:id/deliveries/:deliveryId':
      return { method: 'GET', path: `${base}/${id}/deliveries/${deliveryId}` };
    case 'POST /:id/deliveries/:deliveryId/retry':
      return { method: 'POST', path: `${base}/${id}/deliveries/${deliveryId}/retry` };
  }
}

const READ_ROUTES = new Set<Route>(['GET /', 'GET /event-types', 'GET /:id', 'GET /:id/deliveries', 'GET /:id/deliveries/:deliveryId']);
const ID_ROUTES = ROUTES.filter((route) => route.includes(':id'));
const DELIVERY_ROUTES = ROUTES.filter((route) => route.includes(':deliveryId'));
const BODY_ROUTES = ['POST /', 'PATCH /:id', 'POST /:id/recover'] as const;

/** Malformed and look-alike ids, derived from a real one: each must be "not found", or 400 when the path cannot be decoded. */
function idVariants(
  real: string,
  prefix: 'wh' | 'dlv',
  others: { label: string; id: string }[],
): { name: string; segment: string; expect: 404 | 400 }[] {
  const tail = real.slice(prefix.length + 1);
  const notFound = (name: string, segment: string) => ({ name, segment, expect: 404 as const });
  const undecodable = (name: string, segment: string) => ({ name, segment, expect: 400 as const });
  return [
    notFound('a word', 'not-an-id'),
    notFound('the bare prefix', `${prefix}_`),
    notFound('prefix and one character', `${prefix}_0`),
    notFound('well-formed, never issued', `${prefix}_${'0'.repeat(26)}`),
    notFound('well-formed, highest possible', `${prefix}_${'Z'.repeat(26)}`),
    notFound('the real id in lower case', real.toLowerCase()),
    notFound('the real id with an upper-case prefix', `${prefix.toUpperCase()}_${tail}`),
    notFound('the real id + NUL (%00)', `${real}%00`),
    notFound('the real id + double-encoded NUL (%2500)', `${real}%2500`),
    notFound('the real id + a space', `${real}%20`),
    notFound('a space + the real id', `%20${real}`),
    notFound('the real id + LF', `${real}%0A`),
    notFound('the real id + CRLF', `${real}%0D%0A`),
    notFound('the real id + a tab', `${real}%09`),
    notFound('the real id + one character', `${real}A`),
    notFound('the real id minus its last character', real.slice(0, -1)),
    notFound('the real id + ;', `${real};`),
    notFound('the real id with Crockford-excluded O', `${prefix}_O${tail.slice(1)}`),
    notFound('the real id with a Cyrillic О homoglyph', encodeSegment(`${prefix}_\u041e${tail.slice(1)}`)),
    notFound('the real id with a fullwidth prefix', encodeSegment(`${fullwidth(prefix)}\uff3f${tail}`)),
    notFound('RTL override + the real id', encodeSegment(`\u202e${real}`)),
    notFound('the real id + RTL override', encodeSegment(`${real}\u202e`)),
    notFound('the real id with a zero-width space', encodeSegment(`${real.slice(0, 6)}\u200b${real.slice(6)}`)),
    notFound('BOM + the real id', encodeSegment(`\ufeff${real}`)),
    notFound('the real id + a combining accent', encodeSegment(`${real}\u0301`)),
    notFound('an emoji', encodeSegment('\u{1f4a9}')),
    notFound('the real id + an emoji', encodeSegment(`${real}\u{1f4a9}`)),
    notFound("SQL: the real id + ' OR '1'='1", encodeSegment(`${real}' OR '1'='1`)),
    notFound('SQL: a lone quote', encodeSegment("'")),
    notFound('SQL: stacked DROP TABLE', encodeSegment("x'; DROP TABLE webhook_endpoints; --")),
    notFound('SQL: UNION SELECT', encodeSegment("' UNION SELECT secret FROM webhook_endpoints --")),
    notFound('SQL: the real id + " OR ""="', encodeSegment(`${real}" OR ""="`)),
    notFound('SQL: LIKE wildcard %', `${prefix}_%25`),
    notFound('SQL: 26 LIKE underscores', `${prefix}_${'_'.repeat(26)}`),
    notFound('NoSQL operator object', encodeSegment('{"$ne":null}')),
    notFound('path traversal ..', '..'),
    notFound('path traversal %2E%2E', '%2E%2E'),
    notFound('encoded ../../etc/passwd', encodeSegment('../../etc/passwd')),
    notFound('backslash traversal', encodeSegment('..\\..\\windows\\win.ini')),
    notFound('the real id + encoded /..', `${real}%2F..`),
    notFound('a 5,000-character id', 'A'.repeat(5_000)),
    notFound('the prefix + 10,000 digits', `${prefix}_${'0'.repeat(10_000)}`),
    notFound('"undefined"', 'undefined'),
    notFound('"null"', 'null'),
    notFound('"NaN"', 'NaN'),
    notFound('"-1"', '-1'),
    notFound('"0"', '0'),
    notFound('"1e309"', '1e309'),
    notFound('"[object Object]"', encodeSegment('[object Object]')),
    notFound('"*"', '*'),
    ...others.map(({ label, id }) => notFound(label, id)),
    undecodable('a lone surrogate (UTF-8 of U+D800)', '%ED%A0%80'),
    undecodable('a truncated percent-escape', '%E0%A4%A'),
    undecodable('an invalid percent-escape', '%ZZ'),
    undecodable('a lone percent sign', '%'),
    undecodable('an IIS-style %u escape', '%u0041'),
    undecodable('overlong UTF-8 for ".."', '%C0%AE%C0%AE'),
  ];
}

/** Every case, grouped by category. */
function buildCases(f: Fixtures): Case[] {
  const cases: Case[] = [];
  const add = (route: Route, name: string, expect: number, s: Send, extra: Partial<Case> = {}) =>
    cases.push({ route, name, req: build(s), expect, by: 'app', ...extra });
  const owner = { victim: bearer('owner', f.victim), attacker: bearer('owner', f.attacker) };
  const realIds = (route: (typeof ROUTES)[number]) => routeRequest(route, f.vEp, f.vDlv);
  const onlyAttackersEndpoints = (res: RawResponse) => {
    const data = (res.json as { data?: { id: string }[] })?.data;
    if (!Array.isArray(data)) return 'no data array';
    const foreign = data.filter((row) => row.id === f.vEp || row.id === f.vOff);
    return foreign.length ? `leaked ${foreign.map((row) => row.id).join(', ')}` : null;
  };
  const onlyVictimDeliveries = (res: RawResponse) => {
    const data = (res.json as { data?: { id: string; webhook_id: string }[] })?.data;
    if (!Array.isArray(data)) return 'no data array';
    const foreign = data.filter((row) => row.webhook_id !== f.vEp);
    return foreign.length ? `listed deliveries of other endpoints: ${foreign.map((row) => row.id).join(', ')}` : null;
  };

  // ── 1. Missing, garbled and foreign Authorization headers: 401 on every route, aimed at the victim's real ids.
  const badAuthorizations: [string, string | null][] = [
    ['no Authorization header', null],
    ['an empty Authorization header', ''],
    ['"Bearer" alone', 'Bearer'],
    ['"Bearer " with trailing space', 'Bearer '],
    ['Basic credentials for the victim', `Basic ${Buffer.from(`${f.victim}:secret`).toString('base64')}`],
    ['Basic "owner:<victim>"', `Basic ${Buffer.from(`owner:${f.victim}`).toString('base64')}`],
    ['another scheme (Token)', `Token owner:${f.victim}`],
    ['a lower-case scheme the host does not accept', `bearer owner:${f.victim}`],
    ['two spaces after Bearer', `Bearer  owner:${f.victim}`],
    ['an empty owner id', 'Bearer owner:'],
    ['an unknown role', `Bearer admin:${f.victim}`],
    ['an upper-case role', `Bearer OWNER:${f.victim}`],
    ['no colon', `Bearer owner ${f.victim}`],
    [
      'an unsigned JWT naming the victim',
      `Bearer eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ sub: f.victim })).toString('base64url')}.`,
    ],
    ['SQL injection', "Bearer ' OR '1'='1' --"],
    ['"Bearer null"', 'Bearer null'],
    ['"Bearer undefined"', 'Bearer undefined'],
    ['a fullwidth role (UTF-8 bytes)', utf8Header(`Bearer ${fullwidth('owner')}:${f.victim}`)],
    ['an RTL override before the role (UTF-8 bytes)', utf8Header(`Bearer \u202eowner:${f.victim}`)],
    ['an 8 KB token', `Bearer ${'x'.repeat(8_000)}`],
  ];
  for (const route of ROUTES) {
    for (const [label, auth] of badAuthorizations) {
      const r = realIds(route);
      add(route, `401: ${label}`, 401, { ...r, auth }, { message: 'missing or invalid credentials' });
    }
  }

  // ── 2. Headers Node itself refuses before the app sees them: a 20 KB Authorization (431) and a NUL byte in a header (400).
  for (const route of ROUTES) {
    const r = realIds(route);
    add(route, '431: a 20 KB Authorization header', 431, { ...r, auth: `Bearer owner:${f.victim}${'x'.repeat(20_000)}` }, { by: 'node' });
    add(
      route,
      '400: a NUL byte inside the Authorization header',
      400,
      { ...r, auth: `Bearer owner:${f.victim}\u0000`, rawSocket: true },
      { by: 'node' },
    );
  }

  // ── 3. Principals without the needed permission: 403 even on their own data.
  for (const route of ROUTES) {
    const r = realIds(route);
    const write = !READ_ROUTES.has(route);
    const needed = write ? 'webhooks:write' : 'webhooks:read';
    const denied: [string, string][] = [
      ['the victim without any permission', bearer('nobody', f.victim)],
      ['the attacker without any permission', bearer('nobody', f.attacker)],
    ];
    if (write) denied.push(['the victim read-only', bearer('read', f.victim)], ['the attacker read-only', bearer('read', f.attacker)]);
    for (const [label, auth] of denied)
      add(route, `403: ${label}`, 403, { ...r, auth }, { message: `this route needs the "${needed}" permission` });
  }
  // A read-only attacker on the victim's ids reads nothing.
  for (const route of ID_ROUTES.filter((route) => READ_ROUTES.has(route))) {
    add(
      route,
      "404: the attacker read-only, on the victim's ids",
      404,
      { ...realIds(route), auth: bearer('read', f.attacker) },
      { message: 'not found' },
    );
  }
  add(
    'GET /',
    '200: the attacker read-only lists only its own',
    200,
    { method: 'GET', path: '/v1/webhooks', auth: bearer('read', f.attacker) },
    { check: onlyAttackersEndpoints },
  );

  // ── 4. Other owners' real ids: 404 on every :id route (never 403, never the data).
  const foreignPairs: [string, string, string, string][] = [
    ["the victim's enabled endpoint", f.vEp, f.vDlv, 'webhook not found'],
    ["the victim's disabled endpoint", f.vOff, f.vSkip, 'webhook not found'],
  ];
  for (const route of ID_ROUTES) {
    for (const [label, id, deliveryId, message] of foreignPairs) {
      add(route, `404: the attacker, on ${label}`, 404, { ...routeRequest(route, id, deliveryId), auth: owner.attacker }, { message });
    }
  }
  for (const route of DELIVERY_ROUTES) {
    add(
      route,
      "404: the attacker's own endpoint with the victim's delivery",
      404,
      { ...routeRequest(route, f.aEp, f.vDlv), auth: owner.attacker },
      { message: 'delivery not found' },
    );
    add(
      route,
      "404: the attacker's own endpoint with the victim's skipped delivery",
      404,
      { ...routeRequest(route, f.aEp, f.vSkip), auth: owner.attacker },
      { message: 'delivery not found' },
    );
    add(
      route,
      "404: the victim's endpoint with the other endpoint's delivery",
      404,
      { ...routeRequest(route, f.vEp, f.vSkip), auth: owner.victim },
      { message: 'delivery not found' },
    );
  }
  // Tempting, valid-looking changes aimed at the victim's endpoints: still 404.
  const temptingPatches: [string, Send['json'] | undefined, string?, string?][] = [
    ['disable it', { enabled: false }],
    ['redirect it', { url: 'https://evil.example.com/collect' }],
    ['subscribe it to everything', { events: ['*'] }],
    ['clear its description', { description: null }],
    ['tag it', { metadata: { owner: 'attacker' } }],
    ['an RTL-override URL', { url: 'https://example.com/\u202e/moc.live' }],
    ['a Cyrillic homoglyph host', { url: 'https://ex\u0430mple.com/hook' }],
    ['a punycode host', { url: 'https://xn--80ak6aa92e.com/hook' }],
    ['a lone surrogate in the description', undefined, '{"description":"\\ud800"}'],
    ['duplicate keys', undefined, '{"enabled":true,"enabled":false}'],
    ['a BOM before the JSON', undefined, '\ufeff{"enabled":false}'],
    ['an upper-case content type', { enabled: false }, undefined, 'APPLICATION/JSON'],
    ['a 1,024-character description', { description: 'd'.repeat(1024) }],
    ['50 metadata keys', { metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(512)])) }],
    ['every known event type', { events: ['user.created', 'user.updated', 'user.deleted', 'order.paid', 'order.refunded'] }],
  ];
  for (const [id, label] of [
    [f.vEp, 'enabled'],
    [f.vOff, 'disabled'],
  ]) {
    for (const [what, json, raw, contentType] of temptingPatches) {
      add(
        'PATCH /:id',
        `404: the attacker PATCHes the victim's ${label} endpoint: ${what}`,
        404,
        {
          method: 'PATCH',
          path: `/v1/webhooks/${id}`,
          auth: owner.attacker,
          json,
          raw,
          contentType,
        },
        { message: 'webhook not found' },
      );
    }
    add(
      'POST /:id/rotate-secret',
      `404: the attacker rotates the victim's ${label} secret, naming its own`,
      404,
      {
        method: 'POST',
        path: `/v1/webhooks/${id}/rotate-secret`,
        auth: owner.attacker,
        json: { secret: 'whsec_attacker' },
      },
      { message: 'webhook not found' },
    );
    add(
      'POST /:id/revoke-previous-secret',
      `404: the attacker revokes the victim's ${label} previous secret`,
      404,
      {
        method: 'POST',
        path: `/v1/webhooks/${id}/revoke-previous-secret`,
        auth: owner.attacker,
      },
      { message: 'webhook not found' },
    );
    add(
      'POST /:id/recover',
      `404: the attacker recovers the victim's ${label} endpoint over all time`,
      404,
      {
        method: 'POST',
        path: `/v1/webhooks/${id}/recover`,
        auth: owner.attacker,
        json: { since: '1970-01-01T00:00:00.000Z', until: '2999-01-01T00:00:00.000Z' },
      },
      { message: 'webhook not found' },
    );
  }

  // Headers that some stacks trust to pick the owner or the method: ignored here.
  const spoofing = {
    'X-Owner-Id': f.victim,
    'X-Forwarded-User': f.victim,
    'X-Remote-User': f.victim,
    'X-Forwarded-For': '127.0.0.1',
    'X-Real-IP': '127.0.0.1',
  };
  const override = { 'X-HTTP-Method-Override': 'DELETE', 'X-Method-Override': 'DELETE', 'X-HTTP-Method': 'DELETE' };
  for (const route of ROUTES) {
    const r = realIds(route);
    const foreign = route === 'GET /' || route === 'GET /event-types' ? 200 : 404;
    if (route !== 'POST /') {
      add(
        route,
        `${foreign}: the attacker claims to be the victim through X-Owner-Id and friends`,
        foreign,
        { ...r, auth: owner.attacker, headers: spoofing },
        {
          message: foreign === 404 ? 'not found' : undefined,
          check: route === 'GET /' ? onlyAttackersEndpoints : undefined,
        },
      );
    }
    if (READ_ROUTES.has(route)) {
      add(route, '200: the read-only victim asks for DELETE through method-override headers (it stays a read)', 200, {
        ...r,
        auth: bearer('read', f.victim),
        headers: override,
      });
      // The two list routes validate their query; the others ignore it.
      const listing = route === 'GET /' || route === 'GET /:id/deliveries';
      add(
        route,
        `${listing ? 400 : 200}: the read-only victim, with a ?_method=DELETE query`,
        listing ? 400 : 200,
        { ...r, path: `${r.path}?_method=DELETE`, auth: bearer('read', f.victim) },
        {
          message: listing ? 'property _method should not exist' : undefined,
        },
      );
    }
  }

  // ── 5. State conflicts on the victim's disabled endpoint: 409, nothing queued.
  add(
    'POST /:id/test',
    '409: the victim tests its disabled endpoint',
    409,
    { method: 'POST', path: `/v1/webhooks/${f.vOff}/test`, auth: owner.victim },
    { message: 'webhook is disabled' },
  );
  add(
    'POST /:id/recover',
    '409: the victim recovers its disabled endpoint',
    409,
    { method: 'POST', path: `/v1/webhooks/${f.vOff}/recover`, auth: owner.victim, json: VALID_RECOVER },
    { message: 'webhook is disabled' },
  );
  add(
    'POST /:id/deliveries/:deliveryId/retry',
    '409: the victim retries a delivery of its disabled endpoint',
    409,
    {
      method: 'POST',
      path: `/v1/webhooks/${f.vOff}/deliveries/${f.vSkip}/retry`,
      auth: owner.victim,
    },
    { message: 'webhook is disabled' },
  );

  // ── 6. Malformed ids, sent with the victim's own credentials and valid bodies, so a lenient match would hit its data.
  const webhookIds = idVariants(f.vEp, 'wh', [
    { label: "the victim's delivery id in the webhook slot", id: f.vDlv },
    { label: "the victim's event id in the webhook slot", id: f.vEvt },
    { label: "the victim's attempt id in the webhook slot", id: f.vAtt },
  ]);
  for (const route of ID_ROUTES) {
    for (const variant of webhookIds) {
      const r = routeRequest(route, variant.segment, f.vDlv);
      add(
        route,
        `${variant.expect}: webhook id = ${variant.name}`,
        variant.expect,
        { ...r, auth: owner.victim },
        {
          message: variant.expect === 404 ? 'webhook not found' : 'Failed to decode param',
        },
      );
    }
    if (route !== 'GET /:id') {
      // GET /v1/webhooks/event-types is the catalog; elsewhere "event-types" is just an unknown id.
      add(
        route,
        '404: webhook id = "event-types"',
        404,
        { ...routeRequest(route, 'event-types', f.vDlv), auth: owner.victim },
        { message: 'webhook not found' },
      );
    }
  }
  const deliveryIds = idVariants(f.vDlv, 'dlv', [
    { label: "the victim's webhook id in the delivery slot", id: f.vEp },
    { label: "the victim's event id in the delivery slot", id: f.vEvt },
    { label: "the victim's attempt id in the delivery slot", id: f.vAtt },
  ]);
  for (const route of DELIVERY_ROUTES) {
    for (const variant of deliveryIds) {
      add(
        route,
        `${variant.expect}: delivery id = ${variant.name}`,
        variant.expect,
        { ...routeRequest(route, f.vEp, variant.segment), auth: owner.victim },
        {
          message: variant.expect === 404 ? 'delivery not found' : 'Failed to decode param',
        },
      );
    }
  }

  // ── 7. Query-string abuse on the two list routes (the attacker on its own list, the victim on its own deliveries).
  const limitCases: [string, string, string][] = [
    ['limit=0', 'limit=0', 'limit must not be less than 1'],
    ['a negative limit', 'limit=-1', 'limit must not be less than 1'],
    ['limit=-0', 'limit=-0', 'limit must not be less than 1'],
    ['limit=101', 'limit=101', 'limit must not be greater than 100'],
    ['a huge limit', 'limit=9007199254740993', 'limit must not be greater than 100'],
    ['limit=1e3', 'limit=1e3', 'limit must not be greater than 100'],
    ['a float limit', 'limit=1.5', 'limit must be an integer number'],
    ['a word limit', 'limit=abc', 'limit must be an integer number'],
    ['an empty limit', 'limit=', 'limit must not be less than 1'],
    ['limit=NaN', 'limit=NaN', 'limit must be an integer number'],
    ['limit=Infinity', 'limit=Infinity', 'limit must be an integer number'],
    ['limit=1e309', 'limit=1e309', 'limit must be an integer number'],
    ['limit=true', 'limit=true', 'limit must be an integer number'],
    ['a limit with NUL', 'limit=5%00', 'limit must be an integer number'],
    ['Arabic-Indic digits', `limit=${encodeSegment('\u0661\u0660')}`, 'limit must be an integer number'],
    ['limit=1_0', 'limit=1_0', 'limit must be an integer number'],
    ['limit given twice', 'limit=1&limit=2', 'limit must be an integer number'],
    ['limit[]=1', 'limit[]=1', 'property limit[] should not exist'],
    ['limit[a]=1', 'limit[a]=1', 'property limit[a] should not exist'],
    ['a lone surrogate limit', 'limit=%ED%A0%80', 'limit must be an integer number'],
  ];
  const cursorCases = (prefix: 'wh' | 'dlv', wrong: string): [string, string, string][] => [
    ['an empty cursor', 'cursor=', 'cursor is not valid'],
    ['a word cursor', 'cursor=nonsense', 'cursor is not valid'],
    ['a cursor of the wrong kind', `cursor=${wrong}`, 'cursor is not valid'],
    ['a lower-case cursor', `cursor=${prefix}_${'a'.repeat(26)}`, 'cursor is not valid'],
    ['a cursor with NUL', `cursor=${prefix}_${'0'.repeat(26)}%00`, 'cursor is not valid'],
    ['a SQL cursor', `cursor=${encodeSegment(`${prefix}_' OR 1=1 --`)}`, 'cursor is not valid'],
    ['a 65-character cursor', `cursor=${'A'.repeat(65)}`, 'cursor must be shorter than or equal to 64 characters'],
    ['a 5,000-character cursor', `cursor=${'A'.repeat(5_000)}`, 'cursor must be shorter than or equal to 64 characters'],
    ['a cursor given twice', `cursor=${prefix}_${'0'.repeat(26)}&cursor=${prefix}_${'1'.repeat(26)}`, 'cursor must be a string'],
    ['a lone-surrogate cursor', 'cursor=%ED%A0%80', 'cursor is not valid'],
    ['a truncated percent-escape cursor', 'cursor=%E0%A4%A', 'cursor is not valid'],
    ['an RTL-override cursor', `cursor=${encodeSegment(`\u202e${prefix}_${'0'.repeat(26)}`)}`, 'cursor is not valid'],
  ];
  const unknownParams: [string, string, string][] = [
    ['an unknown parameter', 'foo=bar', 'property foo should not exist'],
    ['owner_id', `owner_id=${f.victim}`, 'property owner_id should not exist'],
    ['ownerId', `ownerId=${f.victim}`, 'property ownerId should not exist'],
    ['__proto__[limit]', '__proto__[limit]=1', 'property __proto__[limit] should not exist'],
    ['__proto__', '__proto__=x', 'property __proto__ should not exist'],
    ['constructor', 'constructor=x', 'property constructor should not exist'],
    ['prototype', 'prototype=x', 'property prototype should not exist'],
    ['toString', 'toString=x', 'property toString should not exist'],
    ['hasOwnProperty', 'hasOwnProperty=x', 'property hasOwnProperty should not exist'],
    ['a 10 KB unknown parameter', `foo=${'x'.repeat(10_000)}`, 'property foo should not exist'],
  ];
  for (const [label, query, message] of [
    ...limitCases,
    ...cursorCases('wh', f.vDlv),
    ...unknownParams,
    ['status (only deliveries have one)', 'status=failed', 'property status should not exist'],
  ] as [string, string, string][]) {
    add('GET /', `400: ${label}`, 400, { method: 'GET', path: `/v1/webhooks?${query}`, auth: owner.attacker }, { message });
  }
  for (const [label, query, message] of [
    ...limitCases,
    ...cursorCases('dlv', f.vEp),
    ...unknownParams,
    ['an unknown status', 'status=exploded', 'status must be one of the following values'],
    ['an upper-case status', 'status=PENDING', 'status must be one of the following values'],
    ['an empty status', 'status=', 'status must be one of the following values'],
    ['a status with NUL', 'status=pending%00', 'status must be one of the following values'],
    ['a status with a trailing space', 'status=pending%20', 'status must be one of the following values'],
    ['a SQL status', `status=${encodeSegment("succeeded' OR '1'='1")}`, 'status must be one of the following values'],
    ['status given twice', 'status=pending&status=failed', 'status must be one of the following values'],
    ['status[]=pending', 'status[]=pending', 'property status[] should not exist'],
    ['endpoint_id of another endpoint', `endpoint_id=${f.vOff}`, 'property endpoint_id should not exist'],
  ] as [string, string, string][]) {
    add(
      'GET /:id/deliveries',
      `400: ${label}`,
      400,
      { method: 'GET', path: `/v1/webhooks/${f.vEp}/deliveries?${query}`, auth: owner.victim },
      { message },
    );
  }
  // The query is judged before the endpoint is looked up, for anyone.
  add('GET /:id/deliveries', "400: the attacker's bad status on the victim's endpoint", 400, {
    method: 'GET',
    path: `/v1/webhooks/${f.vEp}/deliveries?status=exploded`,
    auth: owner.attacker,
  });
  add(
    'GET /:id/deliveries',
    "404: the attacker's valid query on the victim's endpoint",
    404,
    { method: 'GET', path: `/v1/webhooks/${f.vEp}/deliveries?status=succeeded&limit=1`, auth: owner.attacker },
    { message: 'webhook not found' },
  );
  // Lenient but harmless spellings, and other owners' ids as cursors: 200, nothing leaked.
  for (const [label, query] of [
    ['limit=0x10 (Number() reads hex)', 'limit=0x10'],
    ['limit with a leading space', 'limit=%205'],
    ['limit=+5', 'limit=%2B5'],
    ['limit=1e1', 'limit=1e1'],
    ['limit=05', 'limit=05'],
    ["the victim's endpoint id as cursor", `cursor=${f.vEp}`],
    ['the highest possible cursor', `cursor=wh_${'Z'.repeat(26)}`],
  ]) {
    add(
      'GET /',
      `200: ${label}`,
      200,
      { method: 'GET', path: `/v1/webhooks?${query}`, auth: owner.attacker },
      { check: onlyAttackersEndpoints },
    );
  }
  for (const [label, query] of [
    ["another endpoint's delivery as cursor", `cursor=${f.vSkip}`],
    ['the highest possible cursor', `cursor=dlv_${'Z'.repeat(26)}`],
    ['status and limit', 'status=succeeded&limit=1'],
  ]) {
    add(
      'GET /:id/deliveries',
      `200: ${label}`,
      200,
      { method: 'GET', path: `/v1/webhooks/${f.vEp}/deliveries?${query}`, auth: owner.victim },
      { check: onlyVictimDeliveries },
    );
  }
  // Routes without query parameters ignore them, and never let them pick the owner.
  for (const route of ID_ROUTES.filter((route) => route !== 'GET /:id/deliveries')) {
    const r = routeRequest(route, f.vEp, f.vDlv);
    add(
      route,
      '404: the attacker adds owner_id=<victim> to the query',
      404,
      { ...r, path: `${r.path}?owner_id=${f.victim}&ownerId=${f.victim}`, auth: owner.attacker },
      { message: 'webhook not found' },
    );
  }
  add(
    'GET /event-types',
    '200: unknown and garbled query parameters are ignored',
    200,
    { method: 'GET', path: `/v1/webhooks/event-types?limit=abc&__proto__=x&${encodeSegment('\u202e')}=1`, auth: owner.attacker },
    {
      check: (res) => ((res.json as { data?: unknown[] })?.data?.length === 8 ? null : 'not the 5 catalogued and 3 operational types'),
    },
  );
  add('GET /event-types', '200: a read-only caller reads the catalog', 200, {
    method: 'GET',
    path: '/v1/webhooks/event-types',
    auth: bearer('read', f.attacker),
  });
  add(
    'GET /',
    '431: a 20 KB query string',
    431,
    { method: 'GET', path: `/v1/webhooks?foo=${'x'.repeat(20_000)}`, auth: owner.attacker },
    { by: 'node' },
  );
  add(
    'GET /:id/deliveries',
    '431: a 20 KB query string',
    431,
    { method: 'GET', path: `/v1/webhooks/${f.vEp}/deliveries?foo=${'x'.repeat(20_000)}`, auth: owner.victim },
    { by: 'node' },
  );

  // ── 8. Broken JSON: the body parser answers 400 before anything else, on every route.
  const brokenJson: [string, string | Buffer][] = [
    ['truncated JSON', '{"url": '],
    ['a lone {', '{'],
    ['a lone }', '}'],
    ['a trailing comma', '{"url":"https://hooks.example.com/in","events":["user.created"],}'],
    ['single quotes', "{'url':'https://hooks.example.com/in'}"],
    ['an unquoted key', '{url:1}'],
    ['NaN', '{"description":NaN}'],
    ['Infinity', '{"description":Infinity}'],
    ['undefined', '{"description":undefined}'],
    ['a leading-zero number', '{"description":01}'],
    ['a hex number', '{"description":0x10}'],
    ['a comment', '{"description":"x"/* c */}'],
    ['a raw control character in a string', '{"description":"a\u0001b"}'],
    ['an invalid escape', '{"description":"\\x41"}'],
    ['a short \\u escape', '{"description":"\\u12"}'],
    ['two documents', '{"a":1}{"b":2}'],
    ['trailing garbage', '{"a":1} x'],
    ['whitespace only', '   '],
    ['a top-level string', '"x"'],
    ['a top-level number', '42'],
    ['a top-level null', 'null'],
    ['a top-level true', 'true'],
  ];
  for (const [label, raw] of brokenJson) {
    add('POST /', `400: ${label}`, 400, { method: 'POST', path: '/v1/webhooks', auth: owner.attacker, raw }, { by: 'parser' });
    add('PATCH /:id', `400: ${label}`, 400, { method: 'PATCH', path: `/v1/webhooks/${f.vEp}`, auth: owner.victim, raw }, { by: 'parser' });
    add(
      'POST /:id/recover',
      `400: ${label}`,
      400,
      { method: 'POST', path: `/v1/webhooks/${f.vEp}/recover`, auth: owner.victim, raw },
      { by: 'parser' },
    );
  }
  for (const route of ROUTES.filter((route) => !(BODY_ROUTES as readonly string[]).includes(route))) {
    for (const [label, raw] of brokenJson.slice(0, 6)) {
      add(route, `400: ${label} (the route takes no body)`, 400, { ...realIds(route), auth: owner.attacker, raw }, { by: 'parser' });
    }
    add(
      route,
      '400: broken JSON without credentials (parsing comes first)',
      400,
      { ...realIds(route), auth: null, raw: '{"url": ' },
      { by: 'parser' },
    );
  }

  // ── 9. Well-formed JSON of the wrong shape, wrong types, unknown fields: 400 from the module, naming the problem.
  const endpointBodies: [string, string | object, string | undefined][] = [
    // not an object
    ['an empty array', '[]', 'body must be a JSON object'],
    ['an array holding a valid body', `[${JSON.stringify(VALID_ENDPOINT)}]`, 'body must be a JSON object'],
    ['arrays nested 10,000 deep', deep(10_000, '[', ']'), 'body must be a JSON object'],
    ['objects nested 10,000 deep', deep(10_000, '{"a":', '}', '1'), undefined],
    ['an empty object', {}, 'url must be a string'],
    // url
    ['url: a number', { ...VALID_ENDPOINT, url: 5 }, 'url must be a string'],
    ['url: true', { ...VALID_ENDPOINT, url: true }, 'url must be a string'],
    ['url: null', { ...VALID_ENDPOINT, url: null }, 'url must be a string'],
    ['url: an array', { ...VALID_ENDPOINT, url: ['https://hooks.example.com/in'] }, 'url must be a string'],
    ['url: an object', { ...VALID_ENDPOINT, url: { href: 'https://hooks.example.com/in' } }, 'url must be a string'],
    ['url: 1e308', `{"url":1e308,"events":["user.created"]}`, 'url must be a string'],
    ['url missing', { events: ['user.created'] }, 'url must be a string'],
    // events
    ['events missing', { url: VALID_ENDPOINT.url }, 'events must be an array'],
    ['events: a string', { ...VALID_ENDPOINT, events: 'user.created' }, 'events must be an array'],
    ['events: a number', { ...VALID_ENDPOINT, events: 5 }, 'events must be an array'],
    ['events: null', { ...VALID_ENDPOINT, events: null }, 'events must be an array'],
    ['events: an object', { ...VALID_ENDPOINT, events: { 0: 'user.created', length: 1 } }, 'events must be an array'],
    ['events: [1]', { ...VALID_ENDPOINT, events: [1] }, 'each value in events must be a string'],
    ['events: [null]', { ...VALID_ENDPOINT, events: [null] }, 'each value in events must be a string'],
    ['events: [true]', { ...VALID_ENDPOINT, events: [true] }, 'each value in events must be a string'],
    ['events: [{}]', { ...VALID_ENDPOINT, events: [{}] }, 'each value in events must be a string'],
    ['events: a nested array', { ...VALID_ENDPOINT, events: [['user.created']] }, 'each value in events must be a string'],
    ['events: a string and a number', { ...VALID_ENDPOINT, events: ['user.created', 5] }, 'each value in events must be a string'],
    ['events: arrays nested 10,000 deep', `{"url":"${VALID_ENDPOINT.url}","events":${deep(10_000, '[', ']')}}`, undefined],
    // description
    ['description: a number', { ...VALID_ENDPOINT, description: 5 }, 'description must be a string'],
    ['description: true', { ...VALID_ENDPOINT, description: true }, 'description must be a string'],
    ['description: an array', { ...VALID_ENDPOINT, description: ['x'] }, 'description must be a string'],
    ['description: an object', { ...VALID_ENDPOINT, description: { text: 'x' } }, 'description must be a string'],
    ['description: 1,025 characters', { ...VALID_ENDPOINT, description: 'd'.repeat(1025) }, 'description must be at most 1024 characters'],
    [
      'description: 1,025 lone surrogates',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"description":"${'\\ud800'.repeat(1025)}"}`,
      'description must be at most 1024 characters',
    ],
    // enabled
    ['enabled: "true"', { ...VALID_ENDPOINT, enabled: 'true' }, 'enabled must be a boolean value'],
    ['enabled: "false"', { ...VALID_ENDPOINT, enabled: 'false' }, 'enabled must be a boolean value'],
    ['enabled: 1', { ...VALID_ENDPOINT, enabled: 1 }, 'enabled must be a boolean value'],
    ['enabled: 0', { ...VALID_ENDPOINT, enabled: 0 }, 'enabled must be a boolean value'],
    ['enabled: []', { ...VALID_ENDPOINT, enabled: [] }, 'enabled must be a boolean value'],
    ['enabled: null', { ...VALID_ENDPOINT, enabled: null }, 'enabled must be true or false'],
    // metadata
    ['metadata: a string', { ...VALID_ENDPOINT, metadata: 'x' }, 'metadata must be an object'],
    ['metadata: a number', { ...VALID_ENDPOINT, metadata: 5 }, 'metadata must be an object'],
    ['metadata: an array', { ...VALID_ENDPOINT, metadata: ['a'] }, 'metadata must be an object'],
    ['metadata: null', { ...VALID_ENDPOINT, metadata: null }, 'metadata must be an object of string values'],
    ['metadata: a number value', { ...VALID_ENDPOINT, metadata: { a: 1 } }, 'metadata.a must be a string'],
    ['metadata: a null value', { ...VALID_ENDPOINT, metadata: { a: null } }, 'metadata.a must be a string'],
    ['metadata: an object value', { ...VALID_ENDPOINT, metadata: { a: { b: 'c' } } }, 'metadata.a must be a string'],
    ['metadata: an array value', { ...VALID_ENDPOINT, metadata: { a: ['b'] } }, 'metadata.a must be a string'],
    ['metadata: an empty key', { ...VALID_ENDPOINT, metadata: { '': 'v' } }, 'metadata keys must be 1-64 characters'],
    ['metadata: a 65-character key', { ...VALID_ENDPOINT, metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata keys must be 1-64 characters'],
    [
      'metadata: a 513-character value',
      { ...VALID_ENDPOINT, metadata: { a: 'v'.repeat(513) } },
      'metadata.a must be at most 512 characters',
    ],
    [
      'metadata: 51 keys',
      { ...VALID_ENDPOINT, metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
      'metadata must have at most 50 keys',
    ],
    [
      'metadata: objects nested 10,000 deep',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"metadata":${deep(10_000, '{"a":', '}', '"x"')}}`,
      undefined,
    ],
    // pollution attempts and unknown fields
    [
      'metadata: a __proto__ object',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"metadata":{"__proto__":{"polluted":"yes"}}}`,
      undefined,
    ],
    [
      'metadata: a constructor.prototype object',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"metadata":{"constructor":{"prototype":{"polluted":"yes"}}}}`,
      undefined,
    ],
    [
      'metadata: a prototype object',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"metadata":{"prototype":{"polluted":"yes"}}}`,
      undefined,
    ],
    [
      'unknown field: __proto__',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"__proto__":{"polluted":"yes"}}`,
      'property __proto__ should not exist',
    ],
    ['unknown field: __proto__ carrying the fields', `{"__proto__":${JSON.stringify(VALID_ENDPOINT)}}`, undefined],
    [
      'unknown field: constructor.prototype',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"constructor":{"prototype":{"polluted":"yes"}}}`,
      'property constructor should not exist',
    ],
    [
      'unknown field: prototype',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"prototype":{"polluted":"yes"}}`,
      'property prototype should not exist',
    ],
    ['unknown field: toString', { ...VALID_ENDPOINT, toString: 'x' }, 'property toString should not exist'],
    ['unknown field: hasOwnProperty', { ...VALID_ENDPOINT, hasOwnProperty: { x: 1 } }, 'property hasOwnProperty should not exist'],
    ['metadata: a number under the key toString', { ...VALID_ENDPOINT, metadata: { toString: 5 } }, undefined],
    ['metadata: an object under the key hasOwnProperty', { ...VALID_ENDPOINT, metadata: { hasOwnProperty: { x: 1 } } }, undefined],
    ['unknown field: secret', { ...VALID_ENDPOINT, secret: 'whsec_attacker' }, 'property secret should not exist'],
    ['unknown field: id', { ...VALID_ENDPOINT, id: 'wh_00000000000000000000000000' }, 'property id should not exist'],
    ['unknown field: owner_id', { ...VALID_ENDPOINT, owner_id: 'victim' }, 'property owner_id should not exist'],
    ['unknown field: ownerId', { ...VALID_ENDPOINT, ownerId: 'victim' }, 'property ownerId should not exist'],
    ['unknown field: created_at', { ...VALID_ENDPOINT, created_at: '2000-01-01T00:00:00Z' }, 'property created_at should not exist'],
    ['unknown field: disabled_reason', { ...VALID_ENDPOINT, disabled_reason: 'x' }, 'property disabled_reason should not exist'],
    ['unknown field: retired_secrets', { ...VALID_ENDPOINT, retired_secrets: [] }, 'property retired_secrets should not exist'],
    ['unknown field: URL (case)', { ...VALID_ENDPOINT, URL: 'https://evil.example.com' }, 'property URL should not exist'],
    ['unknown field: "url " (trailing space)', { ...VALID_ENDPOINT, 'url ': 'https://evil.example.com' }, 'property url  should not exist'],
    ['unknown field: an empty key', { ...VALID_ENDPOINT, '': 1 }, 'should not exist'],
    [
      'unknown field: arrays nested 10,000 deep',
      `{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"x":${deep(10_000, '[', ']')}}`,
      undefined,
    ],
    [
      'invalid UTF-8 bytes in a key',
      Buffer.concat([
        Buffer.from(`{"url":"${VALID_ENDPOINT.url}","events":["user.created"],"`),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('":1}'),
      ]),
      'should not exist',
    ],
    [
      'duplicate url keys, the last one bad',
      `{"url":"${VALID_ENDPOINT.url}","url":"javascript:alert(1)","events":["user.created"]}`,
      'url must use https',
    ],
    [
      'duplicate events keys, the last one empty',
      `{"events":["user.created"],"url":"${VALID_ENDPOINT.url}","events":[]}`,
      'events must list 1-100 event types',
    ],
  ];
  const urlTricks: [string, string, string][] = [
    ['javascript:', 'javascript:alert(1)', 'url must use https'],
    ['data:', 'data:text/plain,hello', 'url must use https'],
    ['file:', 'file:///etc/passwd', 'url must use https'],
    ['ftp:', 'ftp://example.com/', 'url must use https'],
    ['gopher:', 'gopher://example.com:70/_GET', 'url must use https'],
    ['ws:', 'wss://example.com/', 'url must use https'],
    ['plain http', 'http://hooks.example.com/in', HTTP_REFUSED],
    ['upper-case HTTP', 'HTTP://HOOKS.EXAMPLE.COM/', HTTP_REFUSED],
    ['user and password', 'https://user:pass@example.com/', 'url must not contain credentials'],
    ['a user name', 'https://user@example.com/', 'url must not contain credentials'],
    ['a password only', 'https://:pass@example.com/', 'url must not contain credentials'],
    ['a host-looking user name', 'https://example.com@127.0.0.1/', 'url must not contain credentials'],
    ['127.0.0.1', 'https://127.0.0.1/', 'url must not point at a private'],
    ['127.1', 'https://127.1/', 'url must not point at a private'],
    ['0x7f000001', 'https://0x7f000001/', 'url must not point at a private'],
    ['2130706433', 'https://2130706433/', 'url must not point at a private'],
    ['octal 017700000001', 'https://017700000001/', 'url must not point at a private'],
    ['mixed 0x7f.1', 'https://0x7f.1/', 'url must not point at a private'],
    ['[::1]', 'https://[::1]/', 'url must not point at a private'],
    ['[0:0:0:0:0:0:0:1]', 'https://[0:0:0:0:0:0:0:1]/', 'url must not point at a private'],
    ['[::ffff:127.0.0.1]', 'https://[::ffff:127.0.0.1]/', 'url must not point at a private'],
    ['[::ffff:169.254.169.254]', 'https://[::ffff:169.254.169.254]/', 'url must not point at a private'],
    ['169.254.169.254 (metadata)', 'https://169.254.169.254/latest/meta-data/', 'url must not point at a private'],
    ['[fe80::1]', 'https://[fe80::1]/', 'url must not point at a private'],
    ['[fd00::1]', 'https://[fd00::1]/', 'url must not point at a private'],
    ['10.0.0.1', 'https://10.0.0.1/', 'url must not point at a private'],
    ['172.16.0.1', 'https://172.16.0.1/', 'url must not point at a private'],
    ['192.168.1.1', 'https://192.168.1.1/', 'url must not point at a private'],
    ['100.64.0.1 (CGNAT)', 'https://100.64.0.1/', 'url must not point at a private'],
    ['0.0.0.0', 'https://0.0.0.0/', 'url must not point at a private'],
    ['0', 'https://0/', 'url must not point at a private'],
    ['[::]', 'https://[::]/', 'url must not point at a private'],
    ['localhost', 'https://localhost/', 'url must not point at a private'],
    ['LOCALHOST. with a root dot', 'https://LOCALHOST./', 'url must not point at a private'],
    ['a .localhost name', 'https://api.localhost/', 'url must not point at a private'],
    ['circled-letter localhost', 'https://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/', 'url must not point at a private'],
    ['fullwidth 127.0.0.1', `https://${fullwidth('127.0.0.1')}/`, 'url must not point at a private'],
    ['ideographic full stops', 'https://127\u30020\u30020\u30021/', 'url must not point at a private'],
    ['a percent-encoded host dot', 'https://127.0.0.1%2e/', 'url must not point at a private'],
    ['a backslash after the scheme', 'https:/\\127.0.0.1/', 'url must not point at a private'],
    ['an empty punycode label', 'https://xn--/', 'url must be an absolute URL'],
    ['a lone surrogate in the host', 'https://\ud800.example.com/', 'url must be an absolute URL'],
    ['a leading space', ' https://example.com/', 'url must not contain whitespace or control characters'],
    ['a trailing space', 'https://example.com/ ', 'url must not contain whitespace or control characters'],
    ['a space in the host', 'https://exa mple.com/', 'url must not contain whitespace or control characters'],
    ['a newline', 'https://example.com/\n', 'url must not contain whitespace or control characters'],
    ['a NUL', 'https://example.com/\u0000', 'url must not contain whitespace or control characters'],
    ['a leading NUL', '\u0000https://example.com/', 'url must not contain whitespace or control characters'],
    ['a tab', 'https://exa\tmple.com/', 'url must not contain whitespace or control characters'],
    ['DEL', 'https://example.com/\u007f', 'url must not contain whitespace or control characters'],
    ['a no-break space', 'https://example.com/\u00a0', 'url must not contain whitespace or control characters'],
    ['a line separator', 'https://example.com/\u2028', 'url must not contain whitespace or control characters'],
    ['an ideographic space', 'https://example.com/\u3000', 'url must not contain whitespace or control characters'],
    ['2,049 characters', `https://example.com/${'a'.repeat(2049 - 'https://example.com/'.length)}`, 'url must be at most 2048 characters'],
    ['99,000 characters', `https://example.com/${'a'.repeat(99_000)}`, 'url must be at most 2048 characters'],
    ['an empty string', '', 'url must be a non-empty string'],
    ['scheme only', 'https://', 'url must be an absolute URL'],
    ['an out-of-range port', 'https://example.com:99999/', 'url must be an absolute URL'],
    ['a percent sign in the host', 'https://exa%mple.com/', 'url must be an absolute URL'],
    ['an unclosed IPv6 bracket', 'https://[::1/', 'url must be an absolute URL'],
    ['scheme-relative', '//example.com/hook', 'url must be an absolute URL'],
    ['a relative path', '/hook', 'url must be an absolute URL'],
    ['a fragment', 'https://example.com/#frag', 'url must not contain a fragment'],
  ];
  const eventTricks: [string, unknown[] | string, string][] = [
    ['no events', [], 'events must list 1-100 event types'],
    ['101 events', Array.from({ length: 101 }, () => 'user.created'), 'events must list 1-100 event types'],
    ['5,000 events', Array.from({ length: 5_000 }, () => '*'), 'events must list 1-100 event types'],
    ['an unknown type', ['user.exploded'], 'is not a known event type'],
    ['**', ['**'], 'must be "*", an event type'],
    ['user.**', ['user.**'], 'must be "*", an event type'],
    ['*.created', ['*.created'], 'must be "*", an event type'],
    ['user.*.*', ['user.*.*'], 'must be "*", an event type'],
    ['a duplicate', ['user.created', 'user.created'], 'events must not repeat an event type'],
    ['* twice', ['*', '*'], 'events must not repeat an event type'],
    ['an empty string', [''], 'must be a non-empty string'],
    ['a leading space', [' user.created'], 'must be "*", an event type'],
    ['a trailing space', ['user.created '], 'must be "*", an event type'],
    ['upper case', ['USER.CREATED'], 'is not a known event type'],
    ['a double dot', ['user..created'], 'must be "*", an event type'],
    ['a trailing dot', ['user.'], 'must be "*", an event type'],
    ['a leading dot', ['.user'], 'must be "*", an event type'],
    ['the internal webhook.test', ['webhook.test'], 'is not a known event type'],
    ['a wildcard matching nothing', ['billing.*'], 'matches no known event type'],
    ['a bare prefix', ['user'], 'is not a known event type'],
    ['300 characters', ['a'.repeat(300)], 'must be "*", an event type'],
    ['a NUL', ['user.created\u0000'], 'must be "*", an event type'],
    ['fullwidth letters', [`${fullwidth('user')}.created`], 'must be "*", an event type'],
    ['a one-dot leader for the dot', ['user\u2024created'], 'must be "*", an event type'],
    ['an RTL override', ['user.created\u202e'], 'must be "*", an event type'],
    ['a lone surrogate', ['user.\ud800'], 'must be "*", an event type'],
    ['SQL', ["user.created'; DROP TABLE webhook_events; --"], 'must be "*", an event type'],
    ['a Mongo operator', ['$where'], 'must be "*", an event type'],
    [
      '100 entries of 990 characters (just under the body limit)',
      Array.from({ length: 100 }, (_, i) => `user.${'x'.repeat(985)}${i}`),
      'must be "*", an event type',
    ],
  ];

  // POST / as the attacker: every body is refused, so nothing is created.
  for (const [label, body, message] of endpointBodies) {
    add(
      'POST /',
      `400: ${label}`,
      400,
      {
        method: 'POST',
        path: '/v1/webhooks',
        auth: owner.attacker,
        ...(typeof body === 'string' || Buffer.isBuffer(body) ? { raw: body } : { json: body }),
      },
      { message },
    );
  }
  for (const [label, url, message] of urlTricks) {
    add(
      'POST /',
      `400: url ${label}`,
      400,
      { method: 'POST', path: '/v1/webhooks', auth: owner.attacker, json: { ...VALID_ENDPOINT, url } },
      { message },
    );
  }
  for (const [label, events, message] of eventTricks) {
    add(
      'POST /',
      `400: events: ${label}`,
      400,
      { method: 'POST', path: '/v1/webhooks', auth: owner.attacker, json: { ...VALID_ENDPOINT, events } },
      { message },
    );
  }
  add(
    'POST /',
    '400: every field wrong at once names every problem',
    400,
    {
      method: 'POST',
      path: '/v1/webhooks',
      auth: owner.attacker,
      json: { url: 'ftp://x', events: [], description: 'd'.repeat(2000), enabled: null, metadata: { a: 1 } },
    },
    {
      message:
        'url must use https\nevents must list 1-100 event types\ndescription must be at most 1024 characters\n' +
        'enabled must be true or false\nmetadata.a must be a string',
    },
  );

  // PATCH /:id as the victim on its own enabled endpoint: every body is refused, so nothing changes.
  const patchBodies: [string, string | object, string | undefined][] = [
    ['an empty object', {}, 'body must set at least one of url, events, description, enabled, metadata'],
    ['url: null', { url: null }, 'url must be a non-empty string'],
    ['events: null', { events: null }, 'events must be an array of event types'],
    ['enabled: null', { enabled: null }, 'enabled must be true or false'],
    ['metadata: null', { metadata: null }, 'metadata must be an object of string values'],
    ['duplicate description keys, the last one a number', '{"description":"ok","description":5}', 'description must be a string'],
    ['a valid change plus __proto__', '{"description":"pwned","__proto__":{"polluted":"yes"}}', 'property __proto__ should not exist'],
    [
      'a valid change plus constructor',
      '{"description":"pwned","constructor":{"prototype":{"polluted":"yes"}}}',
      'property constructor should not exist',
    ],
    ['a valid change plus prototype', '{"description":"pwned","prototype":{"polluted":"yes"}}', 'property prototype should not exist'],
    ['a valid change plus toString', { description: 'pwned', toString: 'x' }, 'property toString should not exist'],
    ['a valid change plus secret', { description: 'pwned', secret: 'whsec_mine' }, 'property secret should not exist'],
    ['a valid change plus owner_id', { description: 'pwned', owner_id: 'attacker' }, 'property owner_id should not exist'],
    ['a valid change plus failing_since', { description: 'pwned', failing_since: null }, 'property failing_since should not exist'],
    ['a lone surrogate description plus an unknown field', '{"description":"\\ud800","x":1}', 'property x should not exist'],
    [
      'description: 100,000 characters (just under the body limit)',
      { description: 'd'.repeat(100_000) },
      'description must be at most 1024 characters',
    ],
    [
      'metadata: 50 keys of 1,950 characters (just under the body limit)',
      { metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(1_950)])) },
      'must be at most 512 characters',
    ],
    ['description: arrays nested 10,000 deep', `{"description":${deep(10_000, '[', ']')}}`, undefined],
    // Partial updates skip absent fields, so null reaches the module's own check.
    ...endpointBodies
      .filter(([label]) => !/^(an empty object|url missing|events missing|duplicate|unknown field: __proto__ carrying)/.test(label))
      .map(([label, body, message]): [string, string | object, string | undefined] => [
        label,
        body,
        label === 'url: null' ? 'url must be a non-empty string' : message,
      ]),
  ];
  for (const [label, body, message] of patchBodies) {
    add(
      'PATCH /:id',
      `400: ${label}`,
      400,
      {
        method: 'PATCH',
        path: `/v1/webhooks/${f.vEp}`,
        auth: owner.victim,
        ...(typeof body === 'string' || Buffer.isBuffer(body) ? { raw: body } : { json: body }),
      },
      { message },
    );
  }
  for (const [label, url, message] of urlTricks) {
    add(
      'PATCH /:id',
      `400: url ${label}`,
      400,
      { method: 'PATCH', path: `/v1/webhooks/${f.vEp}`, auth: owner.victim, json: { url } },
      { message },
    );
  }
  for (const [label, events, message] of eventTricks) {
    add(
      'PATCH /:id',
      `400: events: ${label}`,
      400,
      { method: 'PATCH', path: `/v1/webhooks/${f.vEp}`, auth: owner.victim, json: { events } },
      { message },
    );
  }
  // Validation comes before the lookup: an invalid body on someone else's endpoint is 400 too, not a hint that it exists.
  add(
    'PATCH /:id',
    "400: the attacker's invalid body on the victim's endpoint",
    400,
    { method: 'PATCH', path: `/v1/webhooks/${f.vEp}`, auth: owner.attacker, json: { url: 'javascript:alert(1)' } },
    { message: 'url must use https' },
  );

  // POST /:id/recover as the victim on its own enabled endpoint.
  const recoverBodies: [string, string | object, string | undefined][] = [
    ['an empty object', {}, 'since must be a valid ISO 8601 date string'],
    ['an empty array', '[]', 'body must be a JSON object'],
    ['since: a word', { since: 'yesterday' }, 'since must be a valid ISO 8601 date string'],
    ['since: "now"', { since: 'now' }, 'since must be a valid ISO 8601 date string'],
    ['since: empty', { since: '' }, 'since must be a valid ISO 8601 date string'],
    ['since: a leading space', { since: ' 2024-01-01T00:00:00Z' }, 'since must be a valid ISO 8601 date string'],
    ['since: month 13', { since: '2024-13-01T00:00:00Z' }, 'since must be a valid ISO 8601 date string'],
    ['since: February 30', { since: '2024-02-30T00:00:00Z' }, 'since must be a valid ISO 8601 date string'],
    ['since: hour 24 and a second', { since: '2024-01-01T24:00:01Z' }, 'since must be a valid ISO 8601 date string'],
    ['since: second 60', { since: '2024-01-01T00:00:60Z' }, 'since must be a valid ISO 8601 date string'],
    ['since: offset +25:00', { since: '2024-01-01T00:00:00+25:00' }, 'since must be a valid ISO 8601 date string'],
    ['since: beyond the Date range', { since: '+275761-01-01T00:00:00Z' }, 'since must be a valid ISO 8601 date string'],
    ['since: a negative year', { since: '-000001-01-01T00:00:00Z' }, 'since must be a valid ISO 8601 date string'],
    ['since: a trailing NUL', { since: '2024-01-01T00:00:00Z\u0000' }, 'since must be a valid ISO 8601 date string'],
    ['since: fullwidth digits', { since: `${fullwidth('2024-01-01')}T00:00:00Z` }, 'since must be a valid ISO 8601 date string'],
    ['since: SQL', { since: "2024-01-01T00:00:00Z' OR '1'='1" }, 'since must be a valid ISO 8601 date string'],
    ['since: epoch milliseconds', { since: 1_700_000_000_000 }, 'since must be a valid ISO 8601 date string'],
    ['since: epoch milliseconds as a string', { since: '1700000000000' }, 'since must be a valid ISO 8601 date string'],
    ['since: null', { since: null }, 'since must be a valid ISO 8601 date string'],
    ['since: true', { since: true }, 'since must be a valid ISO 8601 date string'],
    ['since: an array', { since: ['2024-01-01T00:00:00Z'] }, 'since must be a valid ISO 8601 date string'],
    ['since: an object', { since: { $gt: '2024-01-01' } }, 'since must be a valid ISO 8601 date string'],
    ['since: 1,000 characters', { since: `2024-01-01T00:00:00${'0'.repeat(1_000)}Z` }, 'since must be a valid ISO 8601 date string'],
    ['since: arrays nested 10,000 deep', `{"since":${deep(10_000, '[', ']')}}`, undefined],
    ['until: a word', { since: '2024-01-01T00:00:00Z', until: 'tomorrow' }, 'until must be a valid ISO 8601 date string'],
    ['until: a number', { since: '2024-01-01T00:00:00Z', until: 5 }, 'until must be a valid ISO 8601 date string'],
    ['until: null', { since: '2024-01-01T00:00:00Z', until: null }, undefined],
    ['since after until', { since: '2024-02-01T00:00:00Z', until: '2024-01-01T00:00:00Z' }, 'since must be earlier than until'],
    ['since equal to until', { since: '2024-01-01T00:00:00Z', until: '2024-01-01T00:00:00.000Z' }, 'since must be earlier than until'],
    ['since in the future, no until', { since: '2999-01-01T00:00:00Z' }, 'since must be earlier than until'],
    [
      'since after until across offsets',
      { since: '2024-01-01T01:00:00+00:00', until: '2024-01-01T01:30:00+01:00' },
      'since must be earlier than until',
    ],
    ['an ISO week date (valid ISO 8601, not a JS date)', { since: '2024-W01' }, undefined],
    ['an unknown field', { ...VALID_RECOVER, extra: 1 }, 'property extra should not exist'],
    ['owner_id', { ...VALID_RECOVER, owner_id: 'attacker' }, 'property owner_id should not exist'],
    ['status', { ...VALID_RECOVER, status: 'succeeded' }, 'property status should not exist'],
    ['__proto__', `{"since":"${VALID_RECOVER.since}","__proto__":{"polluted":"yes"}}`, 'property __proto__ should not exist'],
    [
      'constructor',
      `{"since":"${VALID_RECOVER.since}","constructor":{"prototype":{"polluted":"yes"}}}`,
      'property constructor should not exist',
    ],
    ['valueOf', { ...VALID_RECOVER, valueOf: 1 }, 'property valueOf should not exist'],
    [
      'duplicate since keys, the last one bad',
      `{"since":"${VALID_RECOVER.since}","since":"yesterday"}`,
      'since must be a valid ISO 8601 date string',
    ],
  ];
  for (const [label, body, message] of recoverBodies) {
    add(
      'POST /:id/recover',
      `400: ${label}`,
      400,
      {
        method: 'POST',
        path: `/v1/webhooks/${f.vEp}/recover`,
        auth: owner.victim,
        ...(typeof body === 'string' ? { raw: body } : { json: body }),
      },
      { message },
    );
  }

  // Body-less routes ignore well-formed JSON bodies, whatever they hold.
  const bodyless = [
    'POST /:id/rotate-secret',
    'POST /:id/revoke-previous-secret',
    'POST /:id/test',
    'POST /:id/deliveries/:deliveryId/retry',
    'DELETE /:id',
  ] as const;
  for (const route of bodyless) {
    for (const [label, raw] of [
      ['a __proto__ body', '{"__proto__":{"polluted":"yes"}}'],
      ['an owner_id body', `{"owner_id":"${f.attacker}","ownerId":"${f.attacker}"}`],
      ['arrays nested 10,000 deep', deep(10_000, '[', ']')],
    ]) {
      add(
        route,
        `404: the attacker sends ${label} to the victim's endpoint`,
        404,
        { ...routeRequest(route, f.vEp, f.vDlv), auth: owner.attacker, raw },
        { message: 'webhook not found' },
      );
    }
  }

  // ── 10. Bodies over the parser's limit: 413 before anything else; and compressed bodies.
  const over = (extra: number) => JSON.stringify({ ...VALID_ENDPOINT, description: 'd'.repeat(BODY_LIMIT + extra) });
  const gzipBomb = gzipSync(Buffer.from(`{"description":"${' '.repeat(10_000_000)}"}`));
  for (const route of ROUTES) {
    const r = realIds(route);
    const auth = route === 'POST /' ? owner.attacker : owner.victim;
    add(
      route,
      '413: 1 byte over the 100 KB limit',
      413,
      { ...r, auth, raw: over(1) },
      { by: 'parser', message: 'request entity too large' },
    );
    add(route, '413: 1 MB', 413, { ...r, auth, raw: over(1_000_000) }, { by: 'parser', message: 'request entity too large' });
    add(
      route,
      '413: 200 KB chunked, without Content-Length',
      413,
      { ...r, auth, raw: over(100_000), chunked: true },
      { by: 'parser', message: 'request entity too large' },
    );
    add(
      route,
      '413: a 10 KB gzip that inflates to 10 MB',
      413,
      { ...r, auth, raw: gzipBomb, headers: { 'Content-Encoding': 'gzip' } },
      { by: 'parser', message: 'request entity too large' },
    );
    add(
      route,
      '413: over the limit without credentials (parsing comes first)',
      413,
      { ...r, auth: null, raw: over(1) },
      { by: 'parser', message: 'request entity too large' },
    );
  }
  for (const route of BODY_ROUTES) {
    const r = realIds(route);
    const auth = route === 'POST /' ? owner.attacker : owner.victim;
    add(route, '413: 5 MB', 413, { ...r, auth, raw: over(5_000_000) }, { by: 'parser', message: 'request entity too large' });
    add(
      route,
      '400: gzip that is not gzip',
      400,
      { ...r, auth, raw: 'not gzip', headers: { 'Content-Encoding': 'gzip' } },
      { by: 'parser' },
    );
    add(
      route,
      '415: an unsupported Content-Encoding',
      415,
      { ...r, auth, json: r.json, headers: { 'Content-Encoding': 'compress' } },
      { by: 'parser', message: 'unsupported content encoding' },
    );
    add(
      route,
      '415: an unsupported charset',
      415,
      { ...r, auth, json: r.json, contentType: 'application/json; charset=latin1' },
      { by: 'parser', message: 'unsupported charset' },
    );
    add(
      route,
      '400: UTF-8 bytes declared as UTF-16',
      400,
      { ...r, auth, json: r.json, contentType: 'application/json; charset=utf-16' },
      { by: 'parser' },
    );
  }

  // ── 11. Content types other than JSON: 415, never parsed and applied (judgement call, see the report).
  for (const route of BODY_ROUTES) {
    const r = realIds(route);
    const auth = route === 'POST /' ? owner.attacker : owner.victim;
    const valid = r.json as Record<string, unknown>;
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(valid)) {
      if (Array.isArray(value)) value.forEach((item, i) => form.append(`${key}[${i}]`, String(item)));
      else form.append(key, String(value));
    }
    const mismatches: [string, string | null, string][] = [
      ['JSON sent as text/plain', 'text/plain', JSON.stringify(valid)],
      ['JSON sent without a Content-Type', null, JSON.stringify(valid)],
      ['a valid form-encoded body', 'application/x-www-form-urlencoded', form.toString()],
      ['JSON sent as form-encoded', 'application/x-www-form-urlencoded', JSON.stringify(valid)],
      [
        'a multipart body',
        'multipart/form-data; boundary=x',
        `--x\r\nContent-Disposition: form-data; name="body"\r\n\r\n${JSON.stringify(valid)}\r\n--x--\r\n`,
      ],
      ['XML', 'application/xml', '<webhook><url>https://hooks.example.com/in</url></webhook>'],
      ['JSON sent as application/octet-stream', 'application/octet-stream', JSON.stringify(valid)],
    ];
    for (const [label, contentType, raw] of mismatches) add(route, `415: ${label}`, 415, { ...r, auth, raw, contentType });
  }

  // ── 12. Routes and methods that do not exist: Nest's 404, before authentication.
  const unrouted: [string, string, string][] = [
    ['PUT', `/v1/webhooks/${f.vEp}`, 'Cannot PUT'],
    ['PATCH', '/v1/webhooks', 'Cannot PATCH'],
    ['DELETE', '/v1/webhooks', 'Cannot DELETE'],
    ['POST', '/v1/webhooks/event-types', 'Cannot POST'],
    ['GET', `/v1/webhooks/${f.vEp}/rotate-secret`, 'Cannot GET'],
    ['GET', `/v1/webhooks/${f.vEp}/revoke-previous-secret`, 'Cannot GET'],
    ['GET', `/v1/webhooks/${f.vEp}/test`, 'Cannot GET'],
    ['GET', `/v1/webhooks/${f.vEp}/recover`, 'Cannot GET'],
    ['POST', `/v1/webhooks/${f.vEp}/secret`, 'Cannot POST'],
    ['POST', `/v1/webhooks/${f.vEp}/deliveries`, 'Cannot POST'],
    ['DELETE', `/v1/webhooks/${f.vEp}/deliveries/${f.vDlv}`, 'Cannot DELETE'],
    ['GET', `/v1/webhooks/${f.vEp}/deliveries/${f.vDlv}/retry`, 'Cannot GET'],
    ['POST', `/v1/webhooks/${f.vEp}/deliveries/${f.vDlv}/retry/now`, 'Cannot POST'],
    ['GET', `/v1/webhooks//${f.vEp}`, 'Cannot GET'],
    ['GET', `/v1/webhooks/../webhooks/${f.vEp}`, 'Cannot GET'],
    ['GET', `/v1/webhooks%2F${f.vEp}`, 'Cannot GET'],
    ['GET', `/v1/webhooks/${f.vEp}/deliveries/${f.vDlv}/attempts`, 'Cannot GET'],
    ['OPTIONS', '/v1/webhooks', 'Cannot OPTIONS'],
    ['TRACE', '/v1/webhooks', 'Cannot TRACE'],
  ];
  for (const [method, path, message] of unrouted)
    add(
      'unrouted',
      `404: ${method} ${path.replace(f.vEp, ':id').replace(f.vDlv, ':deliveryId')}`,
      404,
      { method, path, auth: owner.victim },
      { message },
    );

  return cases;
}

/** What is wrong with one answer, or null. */
function judge(c: Case, res: RawResponse): string | null {
  const problems: string[] = [];
  if (res.status >= 500) problems.push('5xx');
  if (res.status !== c.expect) problems.push(`status ${res.status}, expected ${c.expect}`);
  const body = res.json as { statusCode?: unknown; error?: unknown; message?: unknown } | undefined;
  if (res.status === c.expect && c.expect >= 400 && c.by !== 'node' && c.req.method !== 'HEAD') {
    if (!body || typeof body !== 'object') problems.push('error body is not JSON');
    else {
      if (body.statusCode !== res.status) problems.push(`body.statusCode ${JSON.stringify(body.statusCode)}`);
      if (c.by === 'app' && typeof body.error !== 'string') problems.push('body.error missing');
      const message = Array.isArray(body.message) ? body.message.join('\n') : body.message;
      if (typeof message !== 'string' || message.length === 0) problems.push('body.message missing');
      else if (c.message && !message.includes(c.message))
        problems.push(`message ${JSON.stringify(message.slice(0, 200))} lacks ${JSON.stringify(c.message)}`);
    }
    if (c.expect === 401 && res.headers['www-authenticate'] !== 'Bearer') problems.push('no WWW-Authenticate: Bearer');
  }
  if (res.status === c.expect && c.expect < 300 && c.expect !== 204 && !body) problems.push('success body is not JSON');
  if (res.status === c.expect && c.check) {
    const problem = c.check(res);
    if (problem) problems.push(problem);
  }
  return problems.length ? problems.join('; ') : null;
}

function describeFailure(c: Case, res: RawResponse | Error, problem: string): string {
  const path = c.req.path.length > 120 ? `${c.req.path.slice(0, 117)}...` : c.req.path;
  const answer = res instanceof Error ? `no answer (${res.message})` : `${res.status} ${res.text.replace(/\s+/g, ' ').slice(0, 180)}`;
  return `[${c.route}] ${c.name}\n    ${c.req.method} ${path}\n    got: ${answer}\n    wrong: ${problem}`;
}

const ENTITIES = {
  webhook_endpoints: WebhookEndpointEntity,
  webhook_events: WebhookEventEntity,
  webhook_deliveries: WebhookDeliveryEntity,
  webhook_delivery_attempts: WebhookDeliveryAttemptEntity,
};

/** Object.prototype's own names before any request ran. */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

const portOf = (t: TestApp) => (t.app.getHttpServer().address() as AddressInfo).port;

describe('hostile input to the management API', () => {
  const strict = { allowHttp: false, allowPrivateNetworks: false };
  let receiver: TestReceiver;
  let t: TestApp;
  let f: Fixtures;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    // Fixtures go in through a permissive instance (the receiver is plain http on loopback); the barrage
    // then hits an instance configured as in production, on the same database. SQLite needs a file to share.
    const database = await createTestDatabase({ file: true });
    const seed = await startTestApp({ database, dropDatabase: false, webhooks: { rateLimit: false } });
    try {
      const [victim, attacker] = [uniqueOwner('victim'), uniqueOwner('attacker')];
      const register = async (ownerId: string, body: object) =>
        (await seed.api(ownerId).post('/v1/webhooks').send(body).expect(201)).body.id as string;
      const vEp = await register(victim, {
        url: receiver.url('/victim'),
        events: ['user.*'],
        description: 'victim endpoint',
        metadata: { team: 'victims' },
      });
      const vOff = await register(victim, { url: receiver.url('/victim-off'), events: ['user.created'], enabled: false });
      const aEp = await register(attacker, { url: receiver.url('/attacker'), events: ['order.paid'] });
      const { id: vEvt } = await seed.publisher.emit('user.created', { user_id: 'u_1', email: 'victim@example.com' }, { ownerId: victim });
      const deliveries = seed.dataSource.getRepository(WebhookDeliveryEntity);
      const [vDlv, vSkip] = await waitFor('the delivery to succeed and the disabled one to be skipped', async () => {
        const done = await deliveries.findOne({ where: { endpointId: vEp, status: 'succeeded' } });
        const skipped = await deliveries.findOne({ where: { endpointId: vOff, status: 'skipped' } });
        return done && skipped && [done.id, skipped.id];
      });
      const attempt = await waitFor('the attempt row', () =>
        seed.dataSource.getRepository(WebhookDeliveryAttemptEntity).findOne({ where: { deliveryId: vDlv } }),
      );
      f = { victim, attacker, vEp, vOff, aEp, vDlv, vSkip, vEvt, vAtt: attempt.id };
    } finally {
      await seed.close(); // waits for the worker; keeps the database
    }
    t = await startTestApp({ database, webhooks: { rateLimit: false, security: strict } });
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('answers every hostile request with the exact 4xx, never a 5xx, and changes nothing', async () => {
    const before = await snapshotTables(t.dataSource, ENTITIES);
    expect(before.webhook_endpoints).toHaveLength(3);
    expect(before.webhook_deliveries).toHaveLength(2);
    expect(before.webhook_delivery_attempts).toHaveLength(1);

    const cases = buildCases(f);
    const started = Date.now();
    const port = portOf(t);
    const failures: string[] = [];
    await mapLimit(cases, 8, async (c) => {
      let res: RawResponse;
      try {
        res = await send(port, c.req);
      } catch (error) {
        failures.push(describeFailure(c, error as Error, 'no answer'));
        return;
      }
      const problem = judge(c, res);
      if (problem) failures.push(describeFailure(c, res, problem));
    });
    const elapsed = Date.now() - started;

    const perRoute = new Map<Route, number>();
    for (const c of cases) perRoute.set(c.route, (perRoute.get(c.route) ?? 0) + 1);
    if (process.env.HOSTILE_SUMMARY) {
      const lines = [...perRoute].map(([route, count]) => `${route.padEnd(42)} ${count}`);
      process.stdout.write(`\nhostile requests: ${cases.length} in ${elapsed} ms\n${lines.join('\n')}\n${failures.length} failing\n`);
    }

    const after = await snapshotTables(t.dataSource, ENTITIES);
    const changes = describeSnapshotChanges(before, after);
    const polluted = Object.getOwnPropertyNames(Object.prototype).filter((name) => !PROTOTYPE_NAMES.includes(name));

    // One report for everything, so a single run lists every offending case and every changed row.
    const report = [
      failures.length ? `${failures.length} of ${cases.length} hostile requests were answered wrongly:\n\n${failures.join('\n\n')}` : '',
      changes.length ? `The database changed (${changes.length}):\n  ${changes.join('\n  ')}` : '',
      polluted.length ? `Object.prototype was polluted with ${polluted.join(', ')}` : '',
    ].filter(Boolean);
    expect(report.join('\n\n') || 'all answered correctly, nothing changed').toBe('all answered correctly, nothing changed');
    expect(after).toEqual(before);
    expect(cases.length).toBeGreaterThanOrEqual(1_000);
    expect(Math.min(...ROUTES.map((route) => perRoute.get(route) ?? 0))).toBeGreaterThanOrEqual(40);
  });

  it('still serves the victim afterwards, unchanged', async () => {
    const got = await t.api(f.victim).get(`/v1/webhooks/${f.vEp}`).expect(200);
    expect(got.body).toMatchObject({
      id: f.vEp,
      description: 'victim endpoint',
      enabled: true,
      metadata: { team: 'victims' },
      events: ['user.*'],
    });
    const list = await t.api(f.attacker).get('/v1/webhooks').expect(200);
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([f.aEp]);
  });

  it('keeps metadata keys named like Object.prototype members, or refuses them; never drops them silently', async () => {
    // Runs after the barrage: it may write, on a throwaway owner.
    const owner = uniqueOwner('scratch');
    const metadata = JSON.parse('{"constructor":"c","prototype":"p","__proto__":"x","toString":"t"}');
    const res = await send(
      portOf(t),
      build({ method: 'POST', path: '/v1/webhooks', auth: bearer('owner', owner), raw: JSON.stringify({ ...VALID_ENDPOINT, metadata }) }),
    );
    if (res.status === 400) return;
    expect(res.status).toBe(201);
    expect(JSON.stringify((res.json as { metadata: unknown }).metadata)).toBe(JSON.stringify(metadata));
  });
});

describe('rate limiting under a hostile flood', () => {
  let t: TestApp;
  const limits = { write: { limit: 5, windowMs: 60_000 }, read: { limit: 10, windowMs: 60_000 } };

  beforeAll(async () => {
    t = await startTestApp({ webhooks: { rateLimit: limits, security: { allowHttp: false, allowPrivateNetworks: false } } });
  });

  afterAll(async () => {
    closeAgent();
    await t.close();
  });

  it('answers 429 with Retry-After (never 5xx) once the budget is spent, and only counts requests that reach it', async () => {
    const owner = uniqueOwner('flooder');
    const auth = bearer('owner', owner);
    const missing = `wh_${'0'.repeat(26)}`;
    // Requests that pass authentication count against the budget, whatever their fate afterwards.
    const counted: { access: 'write' | 'read'; expect: number; req: RawRequest }[] = [];
    for (let i = 0; i < 8; i++) {
      counted.push({
        access: 'write',
        expect: 400,
        req: build({ method: 'POST', path: '/v1/webhooks', auth, json: { url: 'javascript:alert(1)', events: ['user.created'] } }),
      });
      counted.push({
        access: 'write',
        expect: 404,
        req: build({ method: 'DELETE', path: `/v1/webhooks/${encodeSegment(`' OR 1=1 --${i}`)}`, auth }),
      });
      counted.push({
        access: 'write',
        expect: 404,
        req: build({ method: 'PATCH', path: `/v1/webhooks/${missing}`, auth, json: { enabled: false } }),
      });
      counted.push({ access: 'read', expect: 400, req: build({ method: 'GET', path: `/v1/webhooks?limit=${-i}`, auth }) });
      counted.push({
        access: 'read',
        expect: 404,
        req: build({ method: 'GET', path: `/v1/webhooks/${missing}/deliveries/dlv_x${i}`, auth }),
      });
      counted.push({ access: 'read', expect: 200, req: build({ method: 'GET', path: '/v1/webhooks/event-types', auth }) });
    }
    // Refused before the rate limiter: never counted, never 429.
    const uncounted: { expect: number; req: RawRequest }[] = [];
    for (let i = 0; i < 5; i++) {
      uncounted.push({ expect: 401, req: build({ method: 'POST', path: '/v1/webhooks', auth: `Bearer forged-${i}`, json: {} }) });
      uncounted.push({ expect: 403, req: build({ method: 'DELETE', path: `/v1/webhooks/${missing}`, auth: bearer('read', owner) }) });
      uncounted.push({ expect: 400, req: build({ method: 'POST', path: '/v1/webhooks', auth, raw: '{"url": ' }) });
    }
    const all = [...counted.map((c) => ({ ...c, counted: true })), ...uncounted.map((c) => ({ ...c, counted: false, access: undefined }))];
    const port = portOf(t);
    const results = await mapLimit(all, 16, async (c) => ({ c, res: await send(port, c.req) }));

    const wrong = results.filter(({ c, res }) => res.status >= 500 || (res.status !== c.expect && !(c.counted && res.status === 429)));
    expect(
      wrong.map(({ c, res }) => `${c.req.method} ${c.req.path} → ${res.status}, expected ${c.expect}${c.counted ? ' or 429' : ''}`),
    ).toEqual([]);
    for (const access of ['write', 'read'] as const) {
      const answers = results.filter(({ c }) => c.access === access);
      expect([access, answers.filter(({ res }) => res.status !== 429).length]).toEqual([access, limits[access].limit]);
    }
    for (const { res } of results.filter(({ res }) => res.status === 429)) {
      expect(res.json).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: expect.stringMatching(/^rate limit of (5 writes|10 reads) per 60000 ms exceeded/),
      });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    for (const name of Object.keys(ENTITIES) as (keyof typeof ENTITIES)[]) {
      expect([name, await t.dataSource.getRepository(ENTITIES[name]).count()]).toEqual([name, 0]);
    }
  });
});
