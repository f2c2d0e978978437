import { InvalidPayloadError, PayloadTooLargeError } from '../webhooks.errors.js';

const LOSSY_OBJECTS: Array<[new (...args: any[]) => object, string]> = [
  [Map, 'a Map'],
  [Set, 'a Set'],
  [WeakMap, 'a WeakMap'],
  [WeakSet, 'a WeakSet'],
  [Promise, 'a Promise'],
  [RegExp, 'a RegExp'],
];

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * A `JSON.stringify` replacer that refuses what JSON would drop or mangle (naming where it sits, such
 * as `data.user.avatar`) and stops the serialization once the output is known to exceed a byte budget.
 *
 * Both ride on the one walk `JSON.stringify` makes anyway: emit is the hot path. The size kept is a
 * lower bound of the output (a UTF-16 code unit never takes fewer UTF-8 bytes, separators are left
 * out), so a payload that fits is never refused here; the caller measures the finished body exactly.
 * Where a value sits is worked out from the holders `JSON.stringify` passes in, which arrive depth
 * first: a stack of them, pushed and popped as the walk goes, costs nothing until a path is needed.
 */
export class PayloadGuard {
  readonly replacer: (this: unknown, key: string, value: unknown) => unknown;
  /** Bytes of output known so far (a lower bound). */
  private size: number;
  /** `holders[0]` is the wrapper `{"": data}` that `JSON.stringify` starts from, `holders[1]` is data. */
  private readonly holders: object[] = [];
  /** The key under which each holder sits in the one before it. */
  private readonly keys: string[] = [];
  private readonly isArray: boolean[] = [];
  /** The object the walk is about to descend into, and its key. */
  private child: object | null = null;
  private childKey = '';

  /** `alreadyBytes` counts what surrounds the data (the envelope); `maxBytes` is the whole body's cap. */
  constructor(
    alreadyBytes: number,
    private readonly maxBytes: number,
  ) {
    this.size = alreadyBytes;
    this.replacer = withHolder((holder, key, value) => this.inspect(holder, key, value));
  }

  private inspect(holder: object, key: string, value: unknown): unknown {
    this.locate(holder);
    const depth = this.holders.length;
    if (depth > 1 && !this.isArray[depth - 1]) this.size += key.length + 3; // "key":
    switch (typeof value) {
      case 'string':
        this.size += value.length + 2;
        break;
      case 'number':
        if (!Number.isFinite(value)) throw this.refuse(key, `is ${value}, which JSON cannot represent`);
        this.size += 1;
        break;
      case 'boolean':
        this.size += 4;
        break;
      case 'object':
        if (value === null) {
          if (ownValue(holder, key) instanceof Date) throw this.refuse(key, 'is an invalid Date, which JSON turns into null');
          this.size += 4;
          break;
        }
        this.refuseLossyObject(holder, key, value);
        this.size += 2;
        this.child = value;
        this.childKey = key;
        break;
      case 'undefined':
        throw this.refuse(key, 'is undefined, which JSON drops or turns into null; leave the property out or use null');
      case 'bigint':
        throw this.refuse(key, 'is a BigInt; convert it to a string or number');
      default:
        throw this.refuse(key, `is a ${typeof value}`);
    }
    if (this.size > this.maxBytes) throw new PayloadTooLargeError(this.size, this.maxBytes, true);
    return value;
  }

  /** Brings the holder stack in line with where the walk is now. */
  private locate(holder: object): void {
    if (this.holders[this.holders.length - 1] === holder) return;
    if (holder === this.child || this.holders.length === 0) {
      this.holders.push(holder);
      this.keys.push(this.childKey);
      this.isArray.push(Array.isArray(holder));
      this.child = null;
      return;
    }
    while (this.holders.length > 0 && this.holders[this.holders.length - 1] !== holder) {
      this.holders.pop();
      this.keys.pop();
      this.isArray.pop();
    }
  }

  private refuseLossyObject(holder: object, key: string, value: object): void {
    if (ArrayBuffer.isView(value)) throw this.refuse(key, `is ${article(value.constructor.name)}; encode it as base64 text`);
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      throw this.refuse(key, `is ${article(value.constructor.name)}; encode it as base64 text`);
    }
    // A Buffer reaches the replacer as its toJSON() output, { type: 'Buffer', data: [...] }.
    if ('type' in value && 'data' in value && Buffer.isBuffer(ownValue(holder, key))) {
      throw this.refuse(key, 'is a Buffer; encode it as base64 text');
    }
    for (const [type, name] of LOSSY_OBJECTS) {
      if (value instanceof type) throw this.refuse(key, `is ${name}, which JSON would turn into {}`);
    }
  }

  private refuse(key: string, problem: string): InvalidPayloadError {
    let path = 'data';
    for (let i = 2; i < this.holders.length; i++) path += segment(this.keys[i], this.isArray[i - 1]);
    if (this.holders.length > 1) path += segment(key, this.isArray[this.isArray.length - 1]);
    return new InvalidPayloadError(`${path} ${problem}`);
  }
}

function segment(key: string, inArray: boolean): string {
  if (inArray) return `[${key}]`;
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The holder's own data value, read without running a getter a second time. */
function ownValue(holder: object, key: string): unknown {
  return Object.getOwnPropertyDescriptor(holder, key)?.value;
}

/** "an ArrayBuffer", "an Int8Array", "a Uint8Array": Uint is said "you-int". */
function article(name: string): string {
  return /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`;
}

/** JSON.stringify hands a replacer the object holding the key as `this`; this passes it on as an argument. */
function withHolder(inspect: (holder: object, key: string, value: unknown) => unknown): (key: string, value: unknown) => unknown {
  return function (this: unknown, key: string, value: unknown) {
    return inspect(this as object, key, value);
  };
}
