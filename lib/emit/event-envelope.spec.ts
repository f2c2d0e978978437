import { InvalidPayloadError, PayloadTooLargeError } from '../webhooks.errors.js';
import { serializeEvent } from './event-envelope.js';

const at = new Date('2026-01-01T12:00:00Z');
const ENVELOPE_BYTES = serializeEvent('evt_1', 't', at, {}).length - 2;
const IS_UNDEFINED = 'is undefined, which JSON drops or turns into null; leave the property out or use null';

describe('serializeEvent', () => {
  it('writes the seed guide envelope in order, with data untouched', () => {
    const body = serializeEvent('evt_1', 'user.created', at, { user_id: 'usr_1', email: 'a@example.com', when: new Date(0), n: null });
    expect(body).toBe(
      '{"id":"evt_1","type":"user.created","created_at":"2026-01-01T12:00:00.000Z",' +
        '"data":{"user_id":"usr_1","email":"a@example.com","when":"1970-01-01T00:00:00.000Z","n":null}}',
    );
    expect(Object.keys(JSON.parse(body))).toEqual(['id', 'type', 'created_at', 'data']);
  });

  it('keeps what JSON represents faithfully, look-alikes of refused values included', () => {
    const data = {
      nested: { list: [1, 'two', null, true, { deep: [[]] }], empty: {} },
      shared: { a: 1 },
      looks_like_a_buffer: { type: 'Buffer', data: [1, 2] },
      toJSON_value: { toJSON: () => 'custom' },
      'odd key': 'é😀',
    };
    const body = serializeEvent('evt_1', 't', at, { ...data, again: data.shared });
    expect(JSON.parse(body).data).toEqual({ ...JSON.parse(JSON.stringify(data)), again: { a: 1 } });
  });

  it.each([
    [null, 'data must be a plain object, got null'],
    [[1], 'data must be a plain object, got an array'],
    ['x', 'data must be a plain object, got string'],
    [undefined, 'data must be a plain object, got undefined'],
    [{ n: 10n }, 'data.n is a BigInt; convert it to a string or number'],
    [{ f: () => 1 }, 'data.f is a function'],
    [{ s: Symbol('s') }, 'data.s is a symbol'],
    [{ n: NaN }, 'data.n is NaN, which JSON cannot represent'],
    [{ deep: { n: Infinity } }, 'data.deep.n is Infinity, which JSON cannot represent'],
    [{ m: new Map() }, 'data.m is a Map, which JSON would turn into {}'],
    [{ user: { avatar: Buffer.from('png') } }, 'data.user.avatar is a Buffer; encode it as base64 text'],
    [{ bytes: new Uint8Array([1, 2]) }, 'data.bytes is a Uint8Array; encode it as base64 text'],
    [{ floats: new Float64Array(2) }, 'data.floats is a Float64Array; encode it as base64 text'],
    [{ raw: new ArrayBuffer(4) }, 'data.raw is an ArrayBuffer; encode it as base64 text'],
    [{ shared: new SharedArrayBuffer(4) }, 'data.shared is a SharedArrayBuffer; encode it as base64 text'],
    [{ view: new DataView(new ArrayBuffer(4)) }, 'data.view is a DataView; encode it as base64 text'],
    [{ files: [{ name: 'a' }, { name: 'b', body: Buffer.alloc(1) }] }, 'data.files[1].body is a Buffer; encode it as base64 text'],
    [{ user: { middle_name: undefined } }, `data.user.middle_name ${IS_UNDEFINED}`],
    [{ tags: ['a', undefined] }, `data.tags[1] ${IS_UNDEFINED}`],
    [{ 'odd key': { 'x-y': [[0, NaN]] } }, 'data["odd key"]["x-y"][0][1] is NaN, which JSON cannot represent'],
    [{ when: new Date(Number.NaN) }, 'data.when is an invalid Date, which JSON turns into null'],
    [{ custom: { toJSON: () => undefined } }, `data.custom ${IS_UNDEFINED}`],
  ])('refuses %p, naming where it sits', (data, message) => {
    expect(() => serializeEvent('evt_1', 't', at, data)).toThrow(new InvalidPayloadError(message));
  });

  it('names the path correctly after leaving nested objects and arrays', () => {
    const data = { a: { b: [{ c: 1 }, { d: [2, 3] }], e: { f: {} } }, g: [[1], { h: 'x' }], i: { j: Buffer.alloc(0) } };
    expect(() => serializeEvent('evt_1', 't', at, data)).toThrow(new InvalidPayloadError('data.i.j is a Buffer; encode it as base64 text'));
  });

  it('refuses cycles with a typed error', () => {
    const data: any = { a: 1 };
    data.self = data;
    expect(() => serializeEvent('evt_1', 't', at, data)).toThrow(InvalidPayloadError);
  });

  describe('the size cap', () => {
    it('accepts a body of exactly the cap, multi-byte characters included, and refuses one byte more', () => {
      const fill = (bytes: number) => ({ s: 'é'.repeat(bytes / 2) }); // 2 bytes each in UTF-8, 1 UTF-16 unit
      const overhead = ENVELOPE_BYTES + '{"s":""}'.length;
      const cap = overhead + 1_000;
      expect(Buffer.byteLength(serializeEvent('evt_1', 't', at, fill(1_000), cap))).toBe(cap);
      const error = captureError(() => serializeEvent('evt_1', 't', at, { ...fill(1_000), x: 1 }, cap));
      expect(error).toEqual(new PayloadTooLargeError(cap + 6, cap));
      expect(error.message).toBe(
        `Webhook event is ${cap + 6} bytes serialized; the limit is ${cap} (maxPayloadBytes). ` +
          'Make data smaller (send ids and let receivers fetch the rest) or raise maxPayloadBytes.',
      );
    });

    it('stops as soon as the output passes the cap: later members are never read', () => {
      let read = false;
      const data = {
        blob: 'x'.repeat(10_000),
        get later() {
          read = true;
          return 'never needed';
        },
      };
      const error = captureError(() => serializeEvent('evt_1', 't', at, data, 2_048));
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect(error).toMatchObject({ limit: 2_048, stoppedEarly: true });
      expect(error.bytes).toBeGreaterThan(2_048);
      expect(error.message).toMatch(/^Webhook event is at least \d+ bytes serialized \(serializing stopped early\); the limit is 2048/);
      expect(read).toBe(false);
    });

    it('stops inside a long array of small values too', () => {
      let visited = 0;
      const items = Array.from({ length: 100_000 }, () => ({
        get n() {
          visited++;
          return 1;
        },
      }));
      const error = captureError(() => serializeEvent('evt_1', 't', at, { items }, 4_096));
      expect(error).toMatchObject({ stoppedEarly: true, limit: 4_096 });
      expect(visited).toBeLessThan(1_000);
    });

    it('never stops early on a body that fits', () => {
      const data = { text: 'ü'.repeat(500), list: Array.from({ length: 50 }, (_, i) => ({ i, ok: true, none: null })) };
      const exact = Buffer.byteLength(serializeEvent('evt_1', 't', at, data));
      expect(Buffer.byteLength(serializeEvent('evt_1', 't', at, data, exact))).toBe(exact);
      expect(captureError(() => serializeEvent('evt_1', 't', at, data, exact - 1))).toMatchObject({ bytes: exact, stoppedEarly: false });
    });
  });
});

function captureError(run: () => unknown): PayloadTooLargeError {
  try {
    run();
  } catch (error) {
    return error as PayloadTooLargeError;
  }
  throw new Error('expected an error');
}
