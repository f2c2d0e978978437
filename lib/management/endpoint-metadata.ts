export const METADATA_LIMITS = { keys: 50, keyLength: 64, valueLength: 512 } as const;

/** Why `metadata` is refused, or null: a flat map of short strings, like Stripe's metadata. */
export function explainMetadata(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'metadata must be an object of string values';
  const entries = Object.entries(value);
  if (entries.length > METADATA_LIMITS.keys) return `metadata must have at most ${METADATA_LIMITS.keys} keys`;
  for (const [key, entry] of entries) {
    if (key.length === 0 || key.length > METADATA_LIMITS.keyLength)
      return `metadata keys must be 1-${METADATA_LIMITS.keyLength} characters`;
    if (['__proto__', 'constructor', 'prototype'].includes(key)) return `metadata keys must not be "${key}"`;
    if (typeof entry !== 'string') return `metadata.${key} must be a string`;
    if (entry.length > METADATA_LIMITS.valueLength) return `metadata.${key} must be at most ${METADATA_LIMITS.valueLength} characters`;
  }
  return null;
}
