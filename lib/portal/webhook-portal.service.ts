import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedPortalOptions, ResolvedWebhooksOptions } from '../config/resolved-options.js';
import type { WebhookPrincipal } from '../interfaces/webhook-principal.interface.js';
import { explainOwnerId } from '../utils/host-identifiers.js';
import { PERMISSION_READ, PERMISSION_WRITE, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { WebhookValidationError } from '../webhooks.errors.js';
import { PORTAL_TOKEN_PREFIX, signPortalToken, verifyPortalToken, type PortalTokenCheck } from './portal-token.js';

const MAX_TTL_MS = 7 * 24 * 60 * 60 * 1_000;

export interface PortalSessionOptions {
  /** How long the link works, in ms (1 s to 7 days); default `portal.sessionTtlMs`. */
  ttlMs?: number;
  /** What the portal may do; default read and write (`webhooks:read`, `webhooks:write`). */
  permissions?: string[];
}

export interface PortalSession {
  /** The page with the token in its fragment, which browsers never send to a server or in a Referer. */
  url: string;
  token: string;
  expires_at: string;
}

/**
 * Links to the customer portal. The host calls `createSession` behind its own login, for the owner
 * that login identified, and shows the URL (or frames it); whoever holds the link acts as that owner
 * on the management API until it expires.
 */
@Injectable()
export class WebhookPortal {
  constructor(@Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions) {}

  get enabled(): boolean {
    return this.options.portal !== false && this.options.controllers;
  }

  async createSession(ownerId: string, options: PortalSessionOptions = {}): Promise<PortalSession> {
    const portal = this.portal();
    const problems = [explainOwnerId(ownerId)];
    const ttlMs = options.ttlMs ?? portal.sessionTtlMs;
    if (!Number.isInteger(ttlMs) || ttlMs < 1_000 || ttlMs > MAX_TTL_MS)
      problems.push(`ttlMs must be an integer from 1000 to ${MAX_TTL_MS}`);
    const permissions = options.permissions ?? [PERMISSION_READ, PERMISSION_WRITE];
    if (!Array.isArray(permissions) || permissions.some((p) => typeof p !== 'string'))
      problems.push('permissions must be an array of strings');
    const found = problems.filter((problem): problem is string => problem !== null);
    if (found.length > 0) throw new WebhookValidationError(found);
    const expiresAt = Date.now() + ttlMs;
    const token = signPortalToken(portal.signingKey, { ownerId, permissions: [...permissions], expiresAt });
    return { url: `${portal.publicUrl}#token=${token}`, token, expires_at: new Date(expiresAt).toISOString() };
  }

  /** Whether `token` looks like a portal token at all; such a credential is never passed on to `authenticate`. */
  isPortalToken(token: string | undefined): token is string {
    return this.enabled && typeof token === 'string' && token.startsWith(PORTAL_TOKEN_PREFIX);
  }

  check(token: string): PortalTokenCheck {
    return verifyPortalToken(this.portal().signingKey, token);
  }

  principal(token: string): WebhookPrincipal | 'expired' | 'invalid' {
    const result = this.check(token);
    return result.ok ? { ownerId: result.claims.ownerId, permissions: result.claims.permissions } : result.reason;
  }

  private portal(): ResolvedPortalOptions {
    const portal = this.options.portal;
    if (portal === false || !this.options.controllers) {
      throw new Error('WebhookPortal needs the portal option on (portal: { ... }) and controllers on');
    }
    return portal;
  }
}
