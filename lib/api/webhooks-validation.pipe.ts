import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';

/** Deeper than any valid request; stops hostile nesting before class-transformer recurses into it. */
const MAX_DEPTH = 16;

/** Keys Nest's pipe deletes on sight; refused instead, at any depth, so nothing is dropped silently. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The module's own validation, independent of whatever global pipe the host installs. Before the
 * stock pipe runs it checks what that pipe would silently drop instead of refusing: keys such as
 * `__proto__` or `toString` (stripped by Nest and class-transformer), and nesting deep enough to
 * overflow their recursion. A body must be a JSON object.
 */
export class WebhooksValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false, forbidUnknownValues: true });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new BadRequestException(['body must be a JSON object']);
    }
    if ((metadata.type === 'body' || metadata.type === 'query') && metadata.metatype && value && typeof value === 'object') {
      const shape = inspect(value, MAX_DEPTH);
      if (shape.tooDeep) throw new BadRequestException([`${metadata.type} is nested more than ${MAX_DEPTH} levels deep`]);
      if (shape.prototypeKeys.length > 0)
        throw new BadRequestException(shape.prototypeKeys.map((key) => `property ${key} should not exist`));
      const known = declaredProperties(metadata.metatype);
      const unknown = Object.keys(value).filter((key) => !known.has(key));
      if (unknown.length > 0) throw new BadRequestException(unknown.map((key) => `property ${key} should not exist`));
    }
    return super.transform(value, metadata);
  }
}

function declaredProperties(metatype: abstract new (...args: never[]) => unknown): Set<string> {
  return new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(metatype, '', true, false)
      .map((meta) => meta.propertyName),
  );
}

/** Iterative, so that measuring a hostile body cannot itself overflow the stack. */
function inspect(value: object, limit: number): { tooDeep: boolean; prototypeKeys: string[] } {
  const prototypeKeys = new Set<string>();
  const stack: Array<[unknown, number, string]> = [[value, 1, '']];
  while (stack.length > 0) {
    const [node, depth, path] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return { tooDeep: true, prototypeKeys: [] };
    for (const [key, child] of Object.entries(node)) {
      const at = Array.isArray(node) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!Array.isArray(node) && PROTOTYPE_KEYS.has(key)) prototypeKeys.add(at);
      stack.push([child, depth + 1, at]);
    }
  }
  return { tooDeep: false, prototypeKeys: [...prototypeKeys].sort() };
}
