import { SetMetadata } from '@nestjs/common';

export type WebhookAccess = 'read' | 'write';

export const WEBHOOK_ACCESS = 'nestjs-webhooks:access';

/** Marks a route as a read (`webhooks:read`) or a write (`webhooks:write`, rate-limited separately). */
export const RequiresAccess = (access: WebhookAccess) => SetMetadata(WEBHOOK_ACCESS, access);

/** Where the auth guard leaves the caller's principal on the request. */
export const PRINCIPAL = Symbol.for('nestjs-webhooks:principal');
