import { randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** `whsec_` + base64 of 32 random bytes, the Standard Webhooks secret format. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}
