import {
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { withinDeadline } from '../utils/deadline.js';
import { LogThrottle } from '../utils/log-throttle.js';
import { explainOwnerId } from '../utils/host-identifiers.js';
import type { WebhookPrincipal } from '../interfaces/webhook-principal.interface.js';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { PERMISSION_READ, PERMISSION_WRITE, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import { WebhookPortal } from '../portal/webhook-portal.service.js';
import { PRINCIPAL, WEBHOOK_ACCESS, type WebhookAccess } from './webhook-access.js';

const TIMED_OUT = Symbol('authenticate timed out');

/**
 * Asks the host's `authenticate(req)` who is calling; null is 401, a missing permission is 403, and
 * no answer within `authenticateTimeoutMs` is 503. With the portal on, a portal token (`whp_…`) is
 * checked here instead and never reaches `authenticate`: valid, it is its owner with its permissions;
 * expired or not signed by this app's key, 401.
 */
@Injectable()
export class WebhooksAuthGuard implements CanActivate {
  private readonly logger = new Logger('WebhooksAuth');
  private readonly timeoutLog = new LogThrottle();

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly reflector: Reflector,
    private readonly portal: WebhookPortal,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest();
    const portalToken = portalTokenOf(request.headers ?? {});
    const principal = this.portal.isPortalToken(portalToken) ? this.portalPrincipal(context, portalToken) : await this.askHost(request);
    return this.checkPrincipal(context, request, principal);
  }

  private async askHost(request: unknown): Promise<WebhookPrincipal | null | undefined> {
    const timeoutMs = this.options.authenticateTimeoutMs;
    const principal = await withinDeadline(Promise.resolve(this.options.authenticate!(request)), timeoutMs, TIMED_OUT);
    if (principal === TIMED_OUT) {
      if (this.timeoutLog.allow('authenticate')) {
        this.logger.warn(`authenticate() did not settle within ${timeoutMs} ms; answering 503 (authenticateTimeoutMs)`);
      }
      throw new ServiceUnavailableException(
        `authentication did not finish within ${timeoutMs} ms (authenticateTimeoutMs); try again later`,
      );
    }
    return principal;
  }

  // The token is in neither message nor log: it is a bearer credential until it expires.
  private portalPrincipal(context: ExecutionContext, token: string): WebhookPrincipal {
    const principal = this.portal.principal(token);
    if (typeof principal === 'object') return principal;
    context.switchToHttp().getResponse().setHeader?.('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException(principal === 'expired' ? 'portal link expired' : 'portal token is not valid');
  }

  private checkPrincipal(context: ExecutionContext, request: any, principal: WebhookPrincipal | null | undefined): boolean {
    if (!principal) {
      context.switchToHttp().getResponse().setHeader?.('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException('missing or invalid credentials');
    }
    assertPrincipal(principal);
    const access = this.reflector.get<WebhookAccess>(WEBHOOK_ACCESS, context.getHandler()) ?? 'write';
    const needed = access === 'read' ? PERMISSION_READ : PERMISSION_WRITE;
    if (principal.permissions && !principal.permissions.includes(needed)) {
      throw new ForbiddenException(`this route needs the "${needed}" permission`);
    }
    request[PRINCIPAL] = principal;
    return true;
  }
}

/** `X-Webhooks-Portal-Token: whp_…` or `Authorization: Bearer whp_…`. */
function portalTokenOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const dedicated = headers['x-webhooks-portal-token'];
  if (typeof dedicated === 'string') return dedicated;
  const match = /^Bearer (whp_\S+)$/.exec(typeof headers.authorization === 'string' ? headers.authorization : '');
  return match?.[1];
}

/** A host bug, not a client error: fail loudly rather than scope data to a malformed owner. */
function assertPrincipal(principal: WebhookPrincipal): void {
  const { ownerId, permissions } = principal;
  const problem = explainOwnerId(ownerId);
  if (problem) throw new Error(`WebhooksModule authenticate() must return { ownerId, permissions? }: ${problem}`);
  if (permissions !== undefined && (!Array.isArray(permissions) || permissions.some((p) => typeof p !== 'string'))) {
    throw new Error('WebhooksModule authenticate() returned permissions that are not an array of strings');
  }
}
