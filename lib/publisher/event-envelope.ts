import { InvalidPayloadError } from '../webhooks.errors.js';

const LOSSY_OBJECTS: Array<[new (...args: any[]) => object, string]> = [
  [Map, 'a Map'],
  [Set, 'a Set'],
  [WeakMap, 'a WeakMap'],
  [WeakSet, 'a WeakSet'],
  [Promise, 'a Promise'],
  [RegExp, 'a RegExp'],
];

/**
 * The delivery body, serialized once: `{"id","type","created_at","data"}` in the seed guide's order.
 * Values JSON would silently drop or mangle (functions, NaN, Map…) are refused rather than sent wrong.
 */
export function serializeEvent(id: string, type: string, createdAt: Date, data: unknown): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidPayloadError(`data must be a plain object, got ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}`);
  }
  let json: string;
  try {
    json = JSON.stringify(data, rejectLossyValues);
  } catch (error) {
    if (error instanceof InvalidPayloadError) throw error;
    throw new InvalidPayloadError((error as Error).message.split('\n')[0]);
  }
  return `{"id":${JSON.stringify(id)},"type":${JSON.stringify(type)},"created_at":"${createdAt.toISOString()}","data":${json}}`;
}

function rejectLossyValues(this: unknown, key: string, value: unknown): unknown {
  const at = key === '' ? 'data' : `"${key}"`;
  switch (typeof value) {
    case 'bigint':
      throw new InvalidPayloadError(`${at} is a BigInt; convert it to a string or number`);
    case 'function':
    case 'symbol':
      throw new InvalidPayloadError(`${at} is a ${typeof value}`);
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidPayloadError(`${at} is ${value}, which JSON cannot represent`);
      return value;
    case 'object':
      if (value === null) return value;
      for (const [type, name] of LOSSY_OBJECTS) {
        if (value instanceof type) throw new InvalidPayloadError(`${at} is ${name}, which JSON would turn into {}`);
      }
      return value;
    default:
      return value;
  }
}
