import { idTime, idFloor, isId, newId } from './id.js';

describe('ids', () => {
  it('are prefixed, 26 Crockford characters, and sort by creation time', () => {
    const earlier = newId('wh', 1_700_000_000_000);
    const later = newId('wh', 1_700_000_000_001);
    expect(earlier).toMatch(/^wh_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(earlier < later).toBe(true);
    expect(isId('wh', earlier)).toBe(true);
    expect(isId('evt', earlier)).toBe(false);
    expect(isId('wh', 'wh_short')).toBe(false);
    expect(isId('wh', `${earlier}x`)).toBe(false);
    expect(isId('wh', 'wh_0000000000000000000000000I')).toBe(false);
  });

  it('floors: every id made before the instant sorts below its floor, every later one above', () => {
    const floor = idFloor('dlv', 1_800_000_000_000);
    for (let i = 0; i < 100; i++) {
      expect(newId('dlv', 1_799_999_999_999) < floor).toBe(true);
      expect(newId('dlv', 1_800_000_000_000) >= floor).toBe(true);
    }
  });

  it('tell when they were made', () => {
    for (const ms of [0, 1_700_000_000_123, 1_800_000_000_000]) expect(idTime(newId('evt', ms))).toBe(ms);
    expect(idTime('evt_short')).toBeNull();
    expect(idTime('no-separator')).toBeNull();
    expect(idTime('evt_0000000I000000000000000000')).toBeNull();
  });
});
