/**
 * The OpenAPI description of the management API, written as the metadata `@nestjs/swagger` reads
 * (its `DECORATORS` keys), so that a host's `SwaggerModule.createDocument` describes these routes
 * completely without importing anything from us, while `@nestjs/swagger` stays an optional peer:
 * nothing here loads it. The keys are part of `@nestjs/swagger`'s decorator contract since v4.
 */
const KEYS = {
  operation: 'swagger/apiOperation',
  response: 'swagger/apiResponse',
  parameters: 'swagger/apiParameters',
  security: 'swagger/apiSecurity',
  tags: 'swagger/apiUseTags',
  schema: 'swagger/apiSchema',
  modelPropertiesArray: 'swagger/apiModelPropertiesArray',
  modelProperties: 'swagger/apiModelProperties',
  excludeController: 'swagger/apiExcludeController',
} as const;

/** The security scheme the routes name; `DocumentBuilder.addBearerAuth()` declares it under this name. */
export const OPENAPI_SECURITY_SCHEME = 'bearer';

type Class = abstract new (...args: never[]) => unknown;

/** An OpenAPI 3.0 schema fragment; `type` may also be a documentation class, for a `$ref`. */
export interface PropertyDoc {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | Class;
  isArray?: boolean;
  required?: boolean;
  nullable?: boolean;
  description?: string;
  example?: unknown;
  enum?: readonly string[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  maxProperties?: number;
  items?: Record<string, unknown>;
  additionalProperties?: boolean | Record<string, unknown>;
  oneOf?: Array<Record<string, unknown>>;
  default?: unknown;
}

export interface ResponseDoc {
  description: string;
  type?: Class;
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
}

export interface ParameterDoc {
  name?: string;
  in: 'path' | 'query' | 'body';
  required?: boolean;
  description?: string;
  type?: Class;
  schema?: Record<string, unknown>;
}

type MethodTarget = (target: object, key: string | symbol, descriptor: PropertyDescriptor) => void;

/** A model property: the property list on the prototype (inherited lists are extended), and its schema. */
export function DocProperty(doc: PropertyDoc): PropertyDecorator {
  return (target, key) => {
    const listed: string[] = Reflect.getMetadata(KEYS.modelPropertiesArray, target) ?? [];
    const name = `:${String(key)}`;
    if (!listed.includes(name)) Reflect.defineMetadata(KEYS.modelPropertiesArray, [...listed, name], target);
    Reflect.defineMetadata(KEYS.modelProperties, { required: true, ...doc }, target, key);
  };
}

/** Schema keywords of the class itself, such as `additionalProperties` or `minProperties`. */
export function DocSchema(doc: Record<string, unknown>): ClassDecorator {
  return (target) => Reflect.defineMetadata(KEYS.schema, [doc], target);
}

export function DocOperation(doc: { operationId: string; summary: string; description?: string }): MethodTarget {
  return (_target, _key, descriptor) => Reflect.defineMetadata(KEYS.operation, doc, descriptor.value);
}

export function DocParameters(...parameters: ParameterDoc[]): MethodTarget {
  return (_target, _key, descriptor) => Reflect.defineMetadata(KEYS.parameters, parameters, descriptor.value);
}

/** On a method: its responses; on the controller: the responses every route can give. */
export function DocResponses(responses: Record<number, ResponseDoc>): MethodTarget & ClassDecorator {
  return ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const host = descriptor ? descriptor.value : target;
    const previous = Reflect.getMetadata(KEYS.response, host) ?? {};
    Reflect.defineMetadata(KEYS.response, { ...previous, ...responses }, host);
  }) as MethodTarget & ClassDecorator;
}

/** Tags and the bearer security requirement, for every route of the controller. */
export function DocController(tag: string): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(KEYS.tags, [tag], target);
    Reflect.defineMetadata(KEYS.security, [{ [OPENAPI_SECURITY_SCHEME]: [] }], target);
  };
}

/** Keeps a controller out of the host's document: pages and assets, not API routes. */
export function DocExcludeController(): ClassDecorator {
  return (target) => Reflect.defineMetadata(KEYS.excludeController, [true], target);
}
