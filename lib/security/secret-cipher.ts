import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const SEALED_PREFIX = 'enc:v1:';

/** Endpoints whose opened secrets are kept (about 100 bytes each). */
const OPENED_SECRETS_KEPT = 10_000;

/**
 * Encrypts endpoint secrets at rest with AES-256-GCM when the host gives a key; without a key,
 * secrets are stored as they are. Reading accepts both forms, so turning encryption on later
 * keeps existing endpoints working.
 */
export class SecretCipher {
  /**
   * Opened secrets by their sealed form (unique per sealing, thanks to the IV): a worker signs every
   * delivery, and decrypting per delivery was work repeated for each of an endpoint's deliveries.
   */
  private readonly opened = new Map<string, string>();

  constructor(private readonly key: Buffer | null) {}

  seal(secret: string): string {
    if (!this.key) return secret;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ciphertext.toString('base64')}`;
  }

  open(stored: string): string {
    if (!stored.startsWith(SEALED_PREFIX)) return stored;
    if (!this.key) throw new Error('an endpoint secret is encrypted but security.encryptionKey is not set');
    let secret = this.opened.get(stored);
    if (secret === undefined) {
      const [iv, tag, ciphertext] = stored
        .slice(SEALED_PREFIX.length)
        .split(':')
        .map((part) => Buffer.from(part, 'base64'));
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      secret = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      if (this.opened.size >= OPENED_SECRETS_KEPT) this.opened.clear(); // bounded; refilled as endpoints are used
      this.opened.set(stored, secret);
    }
    return secret;
  }
}

/** A 32-byte key given as 64 hex characters or as base64; anything else is refused at boot. */
export function parseEncryptionKey(value: string): Buffer | null {
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (
    bytes.length !== 32 ||
    (!/^[0-9a-fA-F]{64}$/.test(value) && bytes.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, ''))
  ) {
    return null;
  }
  return bytes;
}
