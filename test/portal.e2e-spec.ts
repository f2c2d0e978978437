import axe from 'axe-core';
import * as crypto from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { WebhookPortal } from '../lib/index.js';
import { launchChromium } from './support/browser.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { startTestApp, uniqueOwner, type TestApp } from './support/test-app.js';
import { TestReceiver } from './support/test-receiver.js';
import { waitFor } from './support/wait-for.js';

const SIGNING_KEY = 'portal-test-signing-key-0123456789abcdef';
const XSS = '<img src=x onerror=alert(1)>';
// Screenshots for docs/portal.md: PORTAL_SCREENSHOTS=1 npx jest test/portal.e2e-spec.ts
const SCREENSHOTS = process.env.PORTAL_SCREENSHOTS ? join(process.cwd(), 'docs', 'images') : null;

describe('customer portal', () => {
  let t: TestApp;
  let receiver: TestReceiver;
  let browser: Browser;
  let portal: WebhookPortal;
  let origin: string;
  const logs = new CapturingLogger();
  const tokens: string[] = [];

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startTestApp({
      logger: logs,
      webhooks: {
        portal: {
          signingKey: SIGNING_KEY,
          title: 'Acme webhooks',
          accentColor: '#0f766e',
          frameAncestors: ["'self'", 'https://app.example.com'],
        },
        eventTypes: [
          {
            name: 'order.paid',
            description: 'An order was paid in full.',
            schema: { type: 'object', properties: { order_id: { type: 'string' } } },
          },
          { name: 'order.refunded', description: 'An order was refunded.' },
          'user.created',
        ],
      },
    });
    portal = t.app.get(WebhookPortal);
    origin = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.close();
  });

  /** A session link for `owner`, opened in a fresh browser context; CSP reports and dialogs are collected. */
  async function open(owner: string, options: { bypassCSP?: boolean; ttlMs?: number } = {}) {
    const session = await portal.createSession(owner, options.ttlMs ? { ttlMs: options.ttlMs } : {});
    tokens.push(session.token);
    const context: BrowserContext = await browser.newContext({
      bypassCSP: options.bypassCSP ?? false,
      viewport: { width: 1100, height: 820 },
    });
    const page = await context.newPage();
    const problems: string[] = [];
    const dialogs: string[] = [];
    // Refusals by the page's own CSP, and uncaught errors; a 404 from the optional stats route is expected.
    page.on('console', (message) => /Content.Security.Policy/i.test(message.text()) && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    return { session, context, page, problems, dialogs, go: () => page.goto(origin + session.url) };
  }

  async function expectAccessible(page: Page, screen: string): Promise<void> {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern (an injected <script> would be refused).
    await page.evaluate(axe.source);
    // A string, as the spec is compiled without the DOM's types.
    const result: any = await page.evaluate(
      `axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`,
    );
    const serious = result.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical');
    expect({ screen, violations: serious.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`) }).toEqual({
      screen,
      violations: [],
    });
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `portal-${name}.png`) });
  }

  it('serves the page with a strict policy, and takes the token out of the address bar', async () => {
    const owner = uniqueOwner('portal');
    const { session, context, page, problems } = await open(owner);
    try {
      expect(session.url).toMatch(/^\/v1\/webhooks\/portal#token=whp_/);
      expect(session.url).not.toContain('?');
      const html = await request(origin).get('/v1/webhooks/portal');
      expect(html.status).toBe(200);
      const csp = html.headers['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'self' https://app.example.com");
      expect(csp).not.toContain('unsafe');
      expect(html.headers['x-content-type-options']).toBe('nosniff');
      expect(html.headers['referrer-policy']).toBe('no-referrer');
      expect(html.text).not.toMatch(/<script(?![^>]*\ssrc=)/);
      const script = html.text.match(/src="([^"]+app\.js[^"]*)"/)![1];
      const js = await request(origin).get(script);
      expect(js.headers['content-type']).toContain('text/javascript');
      expect(js.headers['x-content-type-options']).toBe('nosniff');

      await page.goto(origin + session.url);
      await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Acme webhooks');
      expect(page.url()).toBe(`${origin}/v1/webhooks/portal`);
      await page.getByText('No endpoints yet').waitFor();
      await expectAccessible(page, 'empty list');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('creates an endpoint, sends a test and shows its attempt, verifies with the shown code, and rotates the secret', async () => {
    const owner = uniqueOwner('portal');
    receiver.on('/ok', { status: 200, body: 'thanks' });
    const { context, page, problems, go } = await open(owner);
    try {
      await go();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.getByLabel('Endpoint URL').fill(receiver.url('/ok'));
      await page.getByLabel('Description').fill('Orders to the warehouse');
      await page.getByText('An order was paid in full.').waitFor();
      await expectAccessible(page, 'endpoint form');
      await screenshot(page, 'form');
      await page.getByLabel('order.paid').check();
      await page.getByRole('button', { name: 'Create endpoint' }).click();
      await page.getByRole('heading', { name: 'Endpoint', exact: true }).waitFor();
      const listed = await t.api(owner).get('/v1/webhooks');
      expect(listed.body.data).toEqual([
        expect.objectContaining({ url: receiver.url('/ok'), events: ['order.paid'], description: 'Orders to the warehouse' }),
      ]);
      const id: string = listed.body.data[0].id;

      await page.getByRole('button', { name: 'Reveal secret' }).click();
      const secret = (await page.locator('#secret-value').textContent())!;
      expect(secret).toBe((await t.api(owner).get(`/v1/webhooks/${id}/secret`)).body.secret);
      const snippet = (await page.locator('#verify-snippet').textContent())!;
      expect(snippet).toContain(JSON.stringify(secret));
      expect(snippet).toContain(id);

      await page.getByRole('button', { name: 'Send test event' }).click();
      await page.locator('tr[data-delivery] .badge-succeeded').waitFor();
      const stat = (name: string) => page.locator('dl.stats > div', { has: page.getByText(name, { exact: true }) }).locator('dd');
      await stat('Attempts').filter({ hasText: /^1$/ }).waitFor();
      expect(await stat('Success rate').textContent()).toBe('100%');
      expect(await page.getByRole('img', { name: /1 succeeded, 0 failed/ }).count()).toBe(1);
      const [received] = receiver.at('/ok');
      const verify = new Function('require', `${snippet}\nreturn verifyWebhook;`)((name: string) =>
        name === 'node:crypto' ? crypto : undefined,
      );
      expect(verify(received.headers, received.body)).toBe(true);
      expect(verify(received.headers, received.body.replace('test', 'tost'))).toBe(false);
      await expectAccessible(page, 'endpoint detail');
      await screenshot(page, 'endpoint');
      await page.emulateMedia({ colorScheme: 'dark' });
      await expectAccessible(page, 'endpoint detail, dark');
      await screenshot(page, 'endpoint-dark');
      await page.emulateMedia({ colorScheme: 'light' });

      await page.getByRole('button', { name: 'webhook.test' }).click();
      await page.getByRole('heading', { name: 'Delivery', exact: true }).waitFor();
      const attempt = page.locator('.attempt[data-attempt="1"]');
      expect(await attempt.locator('.attempt-status').textContent()).toBe('200');
      expect(await attempt.getByText('thanks').isVisible()).toBe(true);
      expect(await attempt.locator('dd', { hasText: / ms$/ }).count()).toBe(1);
      const headers = (await attempt.locator('details pre').first().textContent())!;
      expect(headers).toContain(`x-webhook-delivery: ${received.headers['x-webhook-delivery']}`);
      expect(headers).not.toContain(String(received.headers['webhook-signature']).slice(3, 20));
      await expectAccessible(page, 'delivery detail');
      await screenshot(page, 'delivery');

      await page.getByRole('button', { name: 'Back to the endpoint' }).click();
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await page.getByRole('button', { name: 'Rotate now' }).click();
      await page.getByText('Secret rotated.').waitFor();
      const rotated = (await page.locator('#secret-value').textContent())!;
      expect(rotated).not.toBe(secret);
      expect(rotated).toBe((await t.api(owner).get(`/v1/webhooks/${id}/secret`)).body.secret);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("retries a failing endpoint's delivery from the page", async () => {
    const owner = uniqueOwner('portal');
    let healthy = false;
    receiver.on('/flaky', () => (healthy ? { status: 200 } : { status: 500, body: 'database down' }));
    const created = await t
      .api(owner)
      .post('/v1/webhooks')
      .send({ url: receiver.url('/flaky'), events: ['order.paid'] });
    const id: string = created.body.id;
    await t.api(owner).post(`/v1/webhooks/${id}/test`).expect(202);
    await waitFor(
      'the delivery to fail',
      async () => (await t.api(owner).get(`/v1/webhooks/${id}/deliveries?status=failed`)).body.data.length === 1,
    );
    healthy = true;
    const { context, page, problems, go } = await open(owner);
    try {
      await go();
      await page.getByRole('button', { name: receiver.url('/flaky') }).click();
      await page.getByLabel('Status').selectOption('failed');
      await page.locator('tr[data-delivery] .badge-failed').waitFor();
      await page.getByRole('button', { name: 'webhook.test' }).click();
      await page.locator('.attempt[data-attempt="3"]').waitFor();
      expect(await page.locator('.attempt[data-attempt="1"] .attempt-status').textContent()).toBe('500');
      expect(await page.getByText('database down').count()).toBe(3);
      await page.getByRole('button', { name: 'Retry now' }).click();
      // The delivery and its attempts are two reads: the page may show the new attempt a refresh before the status.
      await page.locator('.attempt[data-attempt="4"] .badge-succeeded').waitFor();
      await page.locator('dd .badge-succeeded').waitFor();
      expect(receiver.at('/flaky')).toHaveLength(4);

      await page.getByRole('button', { name: 'Back to the endpoint' }).click();
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByRole('alertdialog').waitFor();
      expect((await t.api(owner).get(`/v1/webhooks/${id}`)).status).toBe(200);
      await page.getByRole('button', { name: 'Delete endpoint' }).click();
      await page.getByText('No endpoints yet').waitFor();
      expect((await t.api(owner).get(`/v1/webhooks/${id}`)).status).toBe(404);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('renders a hostile description as text: no element is made of it and no script runs, even without the CSP', async () => {
    const owner = uniqueOwner('portal');
    const { context, page, dialogs, go } = await open(owner, { bypassCSP: true });
    try {
      await go();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.getByLabel('Endpoint URL').fill(receiver.url('/xss'));
      await page.getByLabel('Description').fill(XSS);
      await page.getByLabel('user.created').check();
      await page.getByRole('button', { name: 'Create endpoint' }).click();
      await page.getByRole('heading', { name: 'Endpoint', exact: true }).waitFor();
      expect(await page.locator('dd.description').textContent()).toBe(XSS);
      await page.getByRole('button', { name: 'All endpoints' }).click();
      await page.locator('td .description').waitFor();
      expect(await page.locator('td .description').textContent()).toBe(XSS);
      await screenshot(page, 'endpoints');
      expect(await page.locator('img[src="x"], img[onerror]').count()).toBe(0);
      // A dialog would be open by now had the handler run: the image's error fires as soon as it is inserted.
      expect(await page.locator('img').count()).toBe(0);
      expect(dialogs).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows "link expired" for an expired link, and the API refuses expired, forged and tampered tokens with 401', async () => {
    const owner = uniqueOwner('portal');
    const other = uniqueOwner('portal-other');
    const othersEndpoint = (
      await t
        .api(other)
        .post('/v1/webhooks')
        .send({ url: receiver.url('/other'), events: ['order.paid'] })
    ).body.id;
    const { session, context, page, go } = await open(owner, { ttlMs: 1_000 });
    try {
      await waitFor('the link to expire', () => Date.now() > Date.parse(session.expires_at) + 50);
      await go();
      await page.getByRole('heading', { name: 'Portal link expired' }).waitFor();
      await screenshot(page, 'expired');
      await expectAccessible(page, 'expired link');
    } finally {
      await context.close();
    }
    const bearer = (token: string) => request(origin).get('/v1/webhooks').set('Authorization', `Bearer ${token}`);
    expect((await bearer(session.token)).body).toMatchObject({ statusCode: 401, message: 'portal link expired' });

    const valid = (await portal.createSession(owner)).token;
    tokens.push(valid);
    expect((await bearer(valid)).status).toBe(200);
    expect((await request(origin).get('/v1/webhooks').set('X-Webhooks-Portal-Token', valid)).status).toBe(200);
    const [payload, mac] = valid.slice(4).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const asOther = Buffer.from(JSON.stringify({ ...claims, o: other })).toString('base64url');
    const forever = Buffer.from(JSON.stringify({ ...claims, x: Date.now() + 365 * 86_400_000 })).toString('base64url');
    const otherKey = crypto.createHmac('sha256', 'another-apps-signing-key-0123456789').update(`whp_${asOther}`).digest('base64url');
    for (const forged of [
      `whp_${asOther}.${mac}`,
      `whp_${forever}.${mac}`,
      `whp_${asOther}.${otherKey}`,
      `whp_${payload}.`,
      `whp_${payload}`,
      'whp_x.y',
    ]) {
      const response = await bearer(forged);
      expect({ forged, status: response.status, message: response.body.message }).toEqual({
        forged,
        status: 401,
        message: 'portal token is not valid',
      });
    }
    // A valid token is its owner only: another owner's endpoint does not exist for it.
    expect((await request(origin).get(`/v1/webhooks/${othersEndpoint}`).set('Authorization', `Bearer ${valid}`)).status).toBe(404);
    // The host's own credentials keep working beside portal tokens.
    expect((await t.api(other).get(`/v1/webhooks/${othersEndpoint}`)).status).toBe(200);
    const readOnly = await portal.createSession(owner, { permissions: ['webhooks:read'] });
    tokens.push(readOnly.token);
    const write = await request(origin)
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${readOnly.token}`)
      .send({ url: receiver.url('/ro'), events: ['order.paid'] });
    expect(write.status).toBe(403);
  });

  it('never writes a portal token to the log', () => {
    expect(tokens.length).toBeGreaterThan(3);
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const token of tokens) {
      const payload = token.slice(4).split('.')[0];
      expect(logs.lines.filter((line) => line.message.includes(payload))).toEqual([]);
    }
  });
});
