#!/usr/bin/env node
/**
 * Writes the management API's OpenAPI document, as a host's `SwaggerModule.createDocument` sees it,
 * for the module mounted at its default path. `npm run openapi` builds first and writes openapi.json;
 * CI regenerates it into a temporary file and fails when it differs from the committed one.
 *
 *   node scripts/generate-openapi.cjs [output file, default openapi.json]
 *
 * `buildOpenApiDocument(lib)` is shared with the test that checks the committed file against lib/.
 */
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** `require`, or `import()` for the ESM-only packages of Nest 12 (the compatibility job loads this file too). */
async function load(name) {
  try {
    return require(name);
  } catch (error) {
    if (error.code !== 'ERR_REQUIRE_ESM' && !/Must use import to load ES Module/.test(error.message)) throw error;
    return import(name);
  }
}

async function buildOpenApiDocument(lib) {
  require('reflect-metadata');
  const { Module } = await load('@nestjs/common');
  const { NestFactory } = await load('@nestjs/core');
  const { TypeOrmModule } = await load('@nestjs/typeorm');
  const { BullModule } = await load('@nestjs/bull');
  const { DocumentBuilder, SwaggerModule } = await load('@nestjs/swagger');

  // Nothing is served or delivered: the app exists only to be scanned, so Redis is never dialled.
  class DocumentAppModule {}
  Module({
    imports: [
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true, synchronize: true }),
      BullModule.forRoot({ redis: { host: '127.0.0.1', port: 6379, lazyConnect: true } }),
      lib.WebhooksModule.forRoot({ authenticate: () => null, processor: false, queueName: 'openapi-document' }),
    ],
  })(DocumentAppModule);
  const app = await NestFactory.create(DocumentAppModule, { logger: false });
  try {
    const config = new DocumentBuilder()
      .setTitle('nestjs-webhooks management API')
      .setDescription('Manage webhook endpoints, their secrets and their delivery history. See docs/rest-api.md.')
      // The API's version, as in its /v1 path; the package's version would change the document on every release.
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: "Whatever the host's `authenticate` accepts." })
      .build();
    return SwaggerModule.createDocument(app, config);
  } finally {
    await app.close();
  }
}

/** Two-space JSON with a final newline: the same code always gives the same bytes. */
function serialize(document) {
  return `${JSON.stringify(document, null, 2)}\n`;
}

module.exports = { buildOpenApiDocument, serialize };

if (require.main === module) {
  const output = process.argv[2] ?? join(__dirname, '..', 'openapi.json');
  buildOpenApiDocument(require('../dist/cjs/index.js'))
    .then((document) => {
      writeFileSync(output, serialize(document));
      console.log(`wrote ${output}`);
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
