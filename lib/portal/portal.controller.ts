import { Controller, Get, Inject, NotFoundException, Req, Res, type Type } from '@nestjs/common';
import type { ResolvedPortalOptions, ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { DocExcludeController } from '../api/openapi/openapi-metadata.js';
import { PORTAL_ASSETS } from './portal-assets.generated.js';

/**
 * The customer portal's page and its two assets. No guard: the page holds no data; the data comes
 * from the management API, with the portal token the page read from its own URL fragment.
 */
export function createPortalController(path: string): Type<unknown> {
  @Controller(path)
  @DocExcludeController()
  class WebhooksPortalController {
    constructor(@Inject(WEBHOOKS_OPTIONS) readonly options: ResolvedWebhooksOptions) {}

    // Registered before the management API's controller, so that "portal" is never taken for a webhook id.
    @Get('portal')
    page(@Req() request: { originalUrl?: string; url?: string }, @Res({ passthrough: true }) response: HeaderTarget): string {
      const portal = this.enabled();
      const base = (request.originalUrl ?? request.url ?? '').split(/[?#]/)[0].replace(/\/+$/, '');
      securityHeaders(response, portal, 'text/html; charset=utf-8');
      setHeader(response, 'Cache-Control', 'no-store');
      return renderPage(portal, base);
    }

    @Get('portal/app.js')
    script(@Res({ passthrough: true }) response: HeaderTarget): string {
      return this.asset(response, 'text/javascript; charset=utf-8', PORTAL_ASSETS.js);
    }

    @Get('portal/app.css')
    style(@Res({ passthrough: true }) response: HeaderTarget): string {
      return this.asset(response, 'text/css; charset=utf-8', PORTAL_ASSETS.css);
    }

    private asset(response: HeaderTarget, type: string, body: string): string {
      securityHeaders(response, this.enabled(), type);
      // The page asks for ?v=<hash>, so a new build is a new URL and this one may be kept.
      setHeader(response, 'Cache-Control', 'public, max-age=31536000, immutable');
      return body;
    }

    private enabled(): ResolvedPortalOptions {
      if (this.options.portal === false) throw new NotFoundException();
      return this.options.portal;
    }
  }
  return WebhooksPortalController;
}

/** Express's response or Fastify's reply. */
interface HeaderTarget {
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

function setHeader(response: HeaderTarget, name: string, value: string): void {
  if (typeof response.setHeader === 'function') response.setHeader(name, value);
  else response.header?.(name, value);
}

/** No inline script or style anywhere: everything the page runs or applies comes from this origin. */
export function contentSecurityPolicy(portal: ResolvedPortalOptions): string {
  const logoOrigin = portal.logoUrl?.startsWith('https://') ? ` ${new URL(portal.logoUrl).origin}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${logoOrigin}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${portal.frameAncestors.join(' ')}`,
  ].join('; ');
}

function securityHeaders(response: HeaderTarget, portal: ResolvedPortalOptions, contentType: string): void {
  setHeader(response, 'Content-Type', contentType);
  setHeader(response, 'Content-Security-Policy', contentSecurityPolicy(portal));
  setHeader(response, 'X-Content-Type-Options', 'nosniff');
  setHeader(response, 'Referrer-Policy', 'no-referrer');
  setHeader(response, 'Cross-Origin-Opener-Policy', 'same-origin');
  const frames = portal.frameAncestors;
  // For browsers without frame-ancestors; it cannot name other origins, so it is only sent when it agrees.
  if (frames.length === 1 && frames[0] === "'none'") setHeader(response, 'X-Frame-Options', 'DENY');
  if (frames.length === 1 && frames[0] === "'self'") setHeader(response, 'X-Frame-Options', 'SAMEORIGIN');
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderPage(portal: ResolvedPortalOptions, base: string): string {
  const attr = (value: string) => `"${escapeHtml(value)}"`;
  const asset = (name: string, hash: string) => attr(`${base}/${name}?v=${hash}`);
  return [
    '<!doctype html>',
    `<html lang="en" data-title=${attr(portal.title)} data-logo=${attr(portal.logoUrl ?? '')} data-accent=${attr(portal.accentColor)}>`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    '<meta name="color-scheme" content="light dark">',
    // No favicon request: the host's may not exist, and the page asks for nothing it does not use.
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(portal.title)}</title>`,
    `<link rel="stylesheet" href=${asset('app.css', PORTAL_ASSETS.cssHash)}>`,
    `<script defer src=${asset('app.js', PORTAL_ASSETS.jsHash)}></script>`,
    '</head>',
    '<body>',
    '<div id="app"><p class="boot">Loading…</p></div>',
    '<noscript><p>This page needs JavaScript.</p></noscript>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
