import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { explainOwnerId } from '../utils/host-identifiers.js';

/** Portal tokens start with this, so a caller (and a secret scanner) can tell them from a host's own credentials. */
export const PORTAL_TOKEN_PREFIX = 'whp_';

export interface PortalClaims {
  ownerId: string;
  permissions: string[];
  /** Epoch ms. */
  expiresAt: number;
}

export type PortalTokenCheck = { ok: true; claims: PortalClaims } | { ok: false; reason: 'expired' | 'invalid' };

/**
 * `whp_<payload>.<mac>`: the claims as base64url JSON, and HMAC-SHA256 over the prefix and payload.
 * Stateless, so every instance with the same key accepts it and nothing is stored; the nonce makes
 * two links for one owner differ.
 */
export function signPortalToken(key: Buffer, claims: PortalClaims): string {
  const payload = Buffer.from(
    JSON.stringify({ o: claims.ownerId, p: claims.permissions, x: claims.expiresAt, n: randomBytes(9).toString('base64url') }),
  ).toString('base64url');
  return `${PORTAL_TOKEN_PREFIX}${payload}.${mac(key, payload)}`;
}

export function verifyPortalToken(key: Buffer, token: string, now: number = Date.now()): PortalTokenCheck {
  const invalid = { ok: false, reason: 'invalid' } as const;
  if (!token.startsWith(PORTAL_TOKEN_PREFIX) || token.length > 4_096) return invalid;
  const [payload, signature, ...rest] = token.slice(PORTAL_TOKEN_PREFIX.length).split('.');
  if (rest.length > 0 || !payload || !signature) return invalid;
  const expected = Buffer.from(mac(key, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return invalid;
  let claims: { o?: unknown; p?: unknown; x?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return invalid;
  }
  const { o: ownerId, p: permissions, x: expiresAt } = claims ?? {};
  if (
    explainOwnerId(ownerId) ||
    typeof expiresAt !== 'number' ||
    !Array.isArray(permissions) ||
    permissions.some((p) => typeof p !== 'string')
  ) {
    return invalid;
  }
  if (expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { ownerId: ownerId as string, permissions, expiresAt } };
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(`${PORTAL_TOKEN_PREFIX}${payload}`).digest('base64url');
}
