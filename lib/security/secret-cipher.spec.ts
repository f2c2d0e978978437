import { randomBytes } from 'node:crypto';
import { parseEncryptionKey, SecretCipher } from './secret-cipher.js';

describe('SecretCipher', () => {
  const key = randomBytes(32);

  it('round-trips and never stores the plain secret', () => {
    const cipher = new SecretCipher(key);
    const sealed = cipher.seal('whsec_abc');
    expect(sealed).not.toContain('whsec_abc');
    expect(sealed).toMatch(/^enc:v1:/);
    expect(cipher.seal('whsec_abc')).not.toEqual(sealed);
    expect(cipher.open(sealed)).toBe('whsec_abc');
  });

  it('reads secrets stored before encryption was turned on', () => {
    expect(new SecretCipher(key).open('whsec_plain')).toBe('whsec_plain');
    expect(new SecretCipher(null).seal('whsec_plain')).toBe('whsec_plain');
  });

  it('refuses a tampered value or the wrong key', () => {
    const sealed = new SecretCipher(key).seal('whsec_abc');
    expect(() => new SecretCipher(randomBytes(32)).open(sealed)).toThrow();
    expect(() => new SecretCipher(null).open(sealed)).toThrow(/encryptionKey/);
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(() => new SecretCipher(key).open(tampered)).toThrow();
  });

  it('parses 32-byte keys in hex or base64 only', () => {
    expect(parseEncryptionKey(key.toString('hex'))).toEqual(key);
    expect(parseEncryptionKey(key.toString('base64'))).toEqual(key);
    expect(parseEncryptionKey('short')).toBeNull();
    expect(parseEncryptionKey(randomBytes(16).toString('base64'))).toBeNull();
  });
});
