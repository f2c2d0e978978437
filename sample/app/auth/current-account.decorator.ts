import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from './authenticated-request.js';

/** The account id `ApiKeyGuard` found for this request. */
export const CurrentAccount = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const { accountId } = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!accountId) throw new Error('CurrentAccount needs ApiKeyGuard on the route');
  return accountId;
});
