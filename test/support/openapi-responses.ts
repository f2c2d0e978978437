import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Checks every answer of a management route against the committed openapi.json: the status must be
 * documented for the operation, and the body must match its schema, with no undocumented field.
 * `startTestApp` installs the middleware; the violations fail the test that caused them.
 */
const DOCUMENT_ID = 'openapi.json';

type Schema = Record<string, unknown>;
interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  responses: Record<string, { schema?: ValidateFunction }>;
}

let operations: Operation[] | undefined;
const violations: string[] = [];

export function loadOpenApiDocument(): {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, Schema> };
} & Schema {
  // Jest runs from the repository root (and the ESM job from its copy, which has openapi.json too).
  return JSON.parse(readFileSync(join(process.cwd(), 'openapi.json'), 'utf8'));
}

/** Every object schema that lists its properties gets additionalProperties: false unless it says otherwise. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Schema = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, key === 'example' ? value : closed(value)]));
  if (copy.type === 'object' && copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

function compile(): Operation[] {
  const document = loadOpenApiDocument();
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: DOCUMENT_ID, components: closed(document.components) });
  const compiled: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
    for (const [method, operation] of Object.entries(methods)) {
      const responses: Operation['responses'] = {};
      for (const [status, response] of Object.entries<any>(operation.responses ?? {})) {
        const schema = response.content?.['application/json']?.schema;
        const ref = schema?.$ref ? { $ref: `${DOCUMENT_ID}${schema.$ref}` } : schema;
        responses[status] = { schema: ref ? ajv.compile(ref) : undefined };
      }
      // Express matches routes case-insensitively and with an optional trailing slash.
      compiled.push({
        method,
        template,
        pattern: new RegExp(`^${source}/?$`, 'i'),
        params: (template.match(/\{/g) ?? []).length,
        responses,
      });
    }
  }
  // Literal segments first: /event-types before /{id}.
  return compiled.sort((a, b) => a.params - b.params);
}

function check(method: string, url: string, status: number, contentType: string, body: Buffer): string | null {
  operations ??= compile();
  const path = url.split('?')[0];
  // The customer portal's page and assets are not API routes: they are kept out of the document.
  if (/\/portal(\/app\.(js|css))?\/?$/.test(path)) return null;
  const operation = operations.find((o) => o.method === method.toLowerCase() && o.pattern.test(path));
  if (!operation) return null; // not a management route (or a method it does not have): Nest's own 404
  const where = `${method} ${url.length > 120 ? `${url.slice(0, 120)}…` : url} (${operation.method.toUpperCase()} ${operation.template})`;
  const response = operation.responses[String(status)];
  if (!response) return `${where} answered ${status}, which the document does not list (${Object.keys(operation.responses).join(', ')})`;
  if (!response.schema) return body.length === 0 ? null : `${where} answered ${status} with a body, where the document has none`;
  if (!/^application\/json/.test(contentType)) return `${where} answered ${status} with Content-Type ${contentType || '(none)'}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return `${where} answered ${status} with a body that is not JSON`;
  }
  if (response.schema(parsed)) return null;
  const problems = (response.schema.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
  return (
    `${where} answered ${status} with a body that does not match its schema: ${problems.join('; ')}\n` +
    `  body: ${body.toString('utf8').slice(0, 500)}`
  );
}

/** Express middleware: records the answer's status and body, and checks them once it is sent. */
export function openApiResponseRecorder(
  request: IncomingMessage & { originalUrl?: string },
  response: ServerResponse,
  next: () => void,
): void {
  const chunks: Buffer[] = [];
  const write = response.write.bind(response);
  const end = response.end.bind(response);
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') {
      chunks.push(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
      );
    }
  };
  response.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
    keep(chunk, encoding);
    return write(chunk as any, encoding as any, callback as any);
  }) as typeof response.write;
  response.end = ((chunk?: unknown, encoding?: unknown, callback?: unknown) => {
    keep(chunk, encoding);
    return end(chunk as any, encoding as any, callback as any);
  }) as typeof response.end;
  response.once('finish', () => {
    const url = request.originalUrl ?? request.url ?? '';
    const problem = check(
      request.method ?? '',
      url,
      response.statusCode,
      String(response.getHeader('content-type') ?? ''),
      Buffer.concat(chunks),
    );
    if (problem) violations.push(problem);
  });
  next();
}

/** Throws, once, for the answers recorded since the last call that the document does not describe. */
export function assertResponsesMatchOpenApi(): void {
  if (violations.length === 0) return;
  const found = violations.splice(0);
  throw new Error(`${found.length} management API answer(s) do not match openapi.json:\n${found.join('\n')}`);
}
