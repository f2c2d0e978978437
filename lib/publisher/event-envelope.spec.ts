import { InvalidPayloadError } from '../webhooks.errors.js';
import { serializeEvent } from './event-envelope.js';

const at = new Date('2026-01-01T12:00:00Z');

describe('serializeEvent', () => {
  it('writes the seed guide envelope in order, with data untouched', () => {
    const body = serializeEvent('evt_1', 'user.created', at, { user_id: 'usr_1', email: 'a@example.com', when: new Date(0), n: null });
    expect(body).toBe(
      '{"id":"evt_1","type":"user.created","created_at":"2026-01-01T12:00:00.000Z","data":{"user_id":"usr_1","email":"a@example.com","when":"1970-01-01T00:00:00.000Z","n":null}}',
    );
    expect(Object.keys(JSON.parse(body))).toEqual(['id', 'type', 'created_at', 'data']);
  });

  it.each([
    [null, 'data must be a plain object, got null'],
    [[1], 'data must be a plain object, got an array'],
    ['x', 'data must be a plain object, got string'],
    [undefined, 'data must be a plain object, got undefined'],
    [{ n: 10n }, '"n" is a BigInt; convert it to a string or number'],
    [{ f: () => 1 }, '"f" is a function'],
    [{ n: NaN }, '"n" is NaN, which JSON cannot represent'],
    [{ deep: { n: Infinity } }, '"n" is Infinity, which JSON cannot represent'],
    [{ m: new Map() }, '"m" is a Map, which JSON would turn into {}'],
  ])('refuses %p', (data, message) => {
    expect(() => serializeEvent('evt_1', 't', at, data)).toThrow(new InvalidPayloadError(message));
  });

  it('refuses cycles with a typed error', () => {
    const data: any = { a: 1 };
    data.self = data;
    expect(() => serializeEvent('evt_1', 't', at, data)).toThrow(InvalidPayloadError);
  });
});
