import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import * as lib from '../lib/index.js';
import { buildOpenApiDocument, serialize } from '../scripts/generate-openapi.cjs';

/** @seriousme/openapi-schema-validator is ESM only; it runs in a child process so that both Jest modes can use it. */
function validateOpenApi(document: unknown): { valid: boolean; errors?: unknown } {
  const script = `import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const result = await new Validator().validate(JSON.parse(input));
    process.stdout.write(JSON.stringify({ valid: result.valid, errors: result.errors }));`;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(document), encoding: 'utf8' }),
  );
}

/**
 * The document a host's SwaggerModule.createDocument builds from the module, with no code of its
 * own: complete for every route, valid OpenAPI 3, and what the committed openapi.json holds.
 */
describe('the OpenAPI document', () => {
  let document: Record<string, any>;

  beforeAll(async () => {
    document = await buildOpenApiDocument(lib);
  });

  it('is valid OpenAPI 3, as built and as committed', () => {
    for (const candidate of [document, JSON.parse(readFileSync(join(process.cwd(), 'openapi.json'), 'utf8'))]) {
      const result = validateOpenApi(candidate);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
    }
  });

  it('is what openapi.json holds (run npm run openapi after changing the API)', () => {
    expect(readFileSync(join(process.cwd(), 'openapi.json'), 'utf8')).toBe(serialize(document));
  });

  it('describes every route of the controller: an operation id, a summary, bearer security, typed answers and the errors', () => {
    const controllers = lib.WebhooksModule.forRoot({ authenticate: () => null }).controllers!;
    // The other controller serves the customer portal's page and assets, excluded from the document.
    const controller = controllers.find((c) => !Reflect.getMetadata('swagger/apiExcludeController', c)) as {
      prototype: object;
      name: string;
    };
    expect(controllers).toHaveLength(2);
    const prefix = Reflect.getMetadata(PATH_METADATA, controller);
    const routes = Object.getOwnPropertyNames(controller.prototype)
      .map((key) => (controller.prototype as Record<string, unknown>)[key])
      .filter((handler): handler is object => typeof handler === 'function' && Reflect.hasMetadata(METHOD_METADATA, handler))
      .map((handler) => {
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number].toLowerCase();
        return { method, path: `/${prefix}${path === '/' ? '' : `/${path}`}`.replace(/:(\w+)/g, '{$1}') };
      });
    expect(routes.length).toBe(15);
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations as object).map((method) => ({ method, path })),
    );
    expect(documented).toEqual(expect.arrayContaining(routes));
    expect(documented).toHaveLength(routes.length);

    const schemas = document.components.schemas;
    const refs = new Set<string>();
    JSON.stringify(document, (key, value) => (key === '$ref' ? refs.add(value) : value));
    for (const ref of refs) expect(schemas[ref.replace('#/components/schemas/', '')]).toBeDefined();
    for (const [name, schema] of Object.entries<any>(schemas)) {
      expect([name, Object.keys(schema.properties ?? {}).length > 0]).toEqual([name, true]);
    }

    for (const { method, path } of routes) {
      const operation = document.paths[path][method];
      const where = `${method.toUpperCase()} ${path}`;
      expect([where, typeof operation.operationId, typeof operation.summary]).toEqual([where, 'string', 'string']);
      expect([where, operation.security]).toEqual([where, [{ bearer: [] }]]);
      const success = Object.keys(operation.responses).filter((status) => status.startsWith('2'));
      expect([where, success.length]).toEqual([where, 1]);
      const schema = operation.responses[success[0]].content?.['application/json']?.schema;
      expect([where, success[0] === '204' ? schema === undefined : typeof schema?.$ref === 'string']).toEqual([where, true]);
      for (const status of ['400', '401', '403', '413', '415', '429', '503', ...(path.includes('{id}') ? ['404'] : [])]) {
        expect([where, status, operation.responses[status]?.content['application/json'].schema]).toEqual([
          where,
          status,
          { $ref: '#/components/schemas/WebhookApiError' },
        ]);
      }
      for (const parameter of path.match(/\{(\w+)\}/g) ?? []) {
        const name = parameter.slice(1, -1);
        expect([
          where,
          operation.parameters.find((p: { name: string; in: string }) => p.name === name && p.in === 'path')?.required,
        ]).toEqual([where, true]);
      }
    }
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('states the request rules the validation pipe and the services apply', () => {
    const { CreateWebhookDto, UpdateWebhookDto, RecoverWebhookDto } = document.components.schemas;
    expect(CreateWebhookDto).toMatchObject({ additionalProperties: false, required: ['url', 'events'] });
    expect(CreateWebhookDto.properties.url).toMatchObject({ type: 'string', minLength: 1, maxLength: 2048 });
    expect(CreateWebhookDto.properties.events).toMatchObject({ type: 'array', minItems: 1, maxItems: 100, uniqueItems: true });
    expect(CreateWebhookDto.properties.description).toMatchObject({ type: 'string', nullable: true, maxLength: 1024 });
    expect(CreateWebhookDto.properties.metadata).toMatchObject({
      type: 'object',
      maxProperties: 50,
      additionalProperties: { type: 'string', maxLength: 512 },
    });
    expect(UpdateWebhookDto).toMatchObject({ additionalProperties: false, minProperties: 1 });
    expect(UpdateWebhookDto.required).toBeUndefined();
    expect(RecoverWebhookDto).toMatchObject({ additionalProperties: false, required: ['since'] });
    const query = (path: string) =>
      Object.fromEntries(document.paths[path].get.parameters.filter((p: any) => p.in === 'query').map((p: any) => [p.name, p]));
    expect(query('/v1/webhooks')).toMatchObject({
      limit: { required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } },
      cursor: { required: false },
    });
    expect(query('/v1/webhooks/{id}/deliveries').status.schema.enum).toEqual(['pending', 'succeeded', 'failed', 'cancelled', 'skipped']);
    expect(query('/v1/webhooks/{id}/stats').window.schema).toMatchObject({ type: 'string', pattern: '^[1-9][0-9]{0,4}[mhd]$' });
  });
});
