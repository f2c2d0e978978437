import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { PRINCIPAL } from './webhook-access.js';

/** The authenticated caller's owner id, set by WebhooksAuthGuard. */
export const OwnerId = createParamDecorator(
  (_: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest()[PRINCIPAL].ownerId,
);
