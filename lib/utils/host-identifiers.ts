/**
 * Identifiers the host hands in: owner ids (from `emit` and from `authenticate`) and idempotency
 * keys. Both scope data and end up in SQL, logs and Redis keys, so control characters are refused:
 * they are invisible in logs, PostgreSQL cannot store NUL, and they are the usual separators of
 * composite keys.
 */
export const MAX_OWNER_ID_LENGTH = 191;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 191;

/** C0 controls, DEL and C1 controls (U+0000–U+001F, U+007F–U+009F). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** What is wrong with an owner id, or null. */
export function explainOwnerId(value: unknown): string | null {
  return explainIdentifier(value, 'ownerId', MAX_OWNER_ID_LENGTH);
}

/** What is wrong with an idempotency key, or null. */
export function explainIdempotencyKey(value: unknown): string | null {
  return explainIdentifier(value, 'idempotencyKey', MAX_IDEMPOTENCY_KEY_LENGTH);
}

function explainIdentifier(value: unknown, name: string, maxLength: number): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    return `${name} must be a string of 1-${maxLength} characters, got ${describe(value)}`;
  }
  const control = CONTROL_CHARACTER.exec(value);
  if (control) {
    const code = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    return `${name} must not contain control characters (U+0000-U+001F, U+007F-U+009F); found ${code} at index ${control.index}`;
  }
  return null;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `${value.length} characters`;
  return value === null ? 'null' : typeof value;
}
