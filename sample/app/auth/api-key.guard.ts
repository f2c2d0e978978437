import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ApiKeys } from './api-keys.js';
import type { AuthenticatedRequest } from './authenticated-request.js';

/** Lets a request through only with a known API key, and remembers whose key it was. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly apiKeys: ApiKeys) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const accountId = this.apiKeys.accountFor(request.headers);
    if (!accountId) throw new UnauthorizedException('missing or unknown API key');
    request.accountId = accountId;
    return true;
  }
}
