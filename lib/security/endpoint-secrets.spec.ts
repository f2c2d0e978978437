import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { EndpointSecrets } from './endpoint-secrets.js';

const HOUR = 3_600_000;
const now = Date.UTC(2026, 0, 1);

function secrets(rotationOverlapMs: number, encryptionKey: Buffer | null = null): EndpointSecrets {
  return new EndpointSecrets({ security: { encryptionKey }, signing: { rotationOverlapMs } } as ResolvedWebhooksOptions);
}

describe('EndpointSecrets', () => {
  it('retires only the secret being replaced, for the overlap, dropping older retired ones', () => {
    const s = secrets(HOUR);
    expect(s.retire({ secret: 'whsec_b' }, now)).toEqual([{ secret: 'whsec_b', expires_at: now + HOUR }]);
  });

  it('retires nothing without an overlap', () => {
    expect(secrets(0).retire({ secret: 'whsec_b' }, now)).toBeNull();
  });

  it('signs with the current secret and the newest retired one while inside its overlap', () => {
    const s = secrets(HOUR);
    const endpoint = { secret: 'whsec_c', retiredSecrets: [{ secret: 'whsec_b', expires_at: now + 1 }] };
    expect(s.liveSecrets(endpoint, now)).toEqual(['whsec_c', 'whsec_b']);
    expect(s.liveSecrets(endpoint, now + 1)).toEqual(['whsec_c']);
    expect(s.liveSecrets({ secret: 'whsec_c', retiredSecrets: null }, now)).toEqual(['whsec_c']);
    expect(s.liveSecrets({ secret: 'whsec_c', retiredSecrets: [] }, now)).toEqual(['whsec_c']);
  });

  it('uses at most two secrets even when a stored row lists hundreds', () => {
    const retiredSecrets = Array.from({ length: 400 }, (_, i) => ({ secret: `whsec_${i}`, expires_at: now + HOUR }));
    expect(secrets(HOUR).liveSecrets({ secret: 'whsec_current', retiredSecrets }, now)).toEqual(['whsec_current', 'whsec_0']);
  });

  it('does not fall back to an older retired secret once the newest has expired', () => {
    const retiredSecrets = [
      { secret: 'whsec_newest', expires_at: now - 1 },
      { secret: 'whsec_older', expires_at: now + HOUR },
    ];
    expect(secrets(HOUR).liveSecrets({ secret: 'whsec_current', retiredSecrets }, now)).toEqual(['whsec_current']);
  });

  it('opens sealed secrets, current and retired', () => {
    const s = secrets(HOUR, Buffer.alloc(32, 7));
    const current = s.create();
    const previous = s.create();
    expect(current.stored).toMatch(/^enc:v1:/);
    const endpoint = { secret: current.stored, retiredSecrets: s.retire({ secret: previous.stored }, now) };
    expect(s.liveSecrets(endpoint, now)).toEqual([current.secret, previous.secret]);
  });
});
