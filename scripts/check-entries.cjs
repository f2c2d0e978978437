#!/usr/bin/env node
/**
 * Checks the built package's entries from what Node actually loads (run after `npm run build`):
 * `nestjs-webhooks/testing` loads neither TypeORM, Bull nor ioredis, so a host's unit tests need none of
 * them configured; the main entry loads neither the testing module nor an optional integration
 * (@nestjs/terminus, @nestjs/swagger, @opentelemetry/api), so a host without them boots. Each entry is required in a
 * fresh process of its own; the ESM build of the testing entry is imported too. Exits 1 on a failure.
 */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const HEAVY = ['typeorm', '@nestjs/typeorm', 'bull', '@nestjs/bull', 'ioredis'];
const OPTIONAL = ['@nestjs/terminus', '@nestjs/swagger', '@opentelemetry/api'];

/** The packages and dist files an entry loads, reported by a child process that requires only it. */
function loadedBy(entry) {
  const probe = `
    require('reflect-metadata');
    require(${JSON.stringify(path.join(root, entry))});
    process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const files = JSON.parse(execFileSync(process.execPath, ['-e', probe], { cwd: root, encoding: 'utf8' }));
  const packages = new Set(files.flatMap((file) => (/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file) ?? []).slice(1)));
  return { files, packages };
}

const problems = [];
const testing = loadedBy('dist/cjs/testing/index.js');
for (const name of HEAVY) if (testing.packages.has(name)) problems.push(`dist/cjs/testing/index.js loads ${name}`);
if (!testing.packages.has('@nestjs/common'))
  problems.push('dist/cjs/testing/index.js: the probe saw no @nestjs/common, so it proves nothing');
const main = loadedBy('dist/cjs/index.js');
for (const file of main.files)
  if (file.includes(`${path.sep}dist${path.sep}cjs${path.sep}testing${path.sep}`)) problems.push(`dist/cjs/index.js loads ${file}`);
for (const name of OPTIONAL) if (main.packages.has(name)) problems.push(`dist/cjs/index.js loads the optional ${name}`);
if (!main.packages.has('typeorm')) problems.push('dist/cjs/index.js: the probe saw no typeorm, so it proves nothing');
const esmEntry = JSON.stringify(path.join(root, 'dist/esm/testing/index.js'));
const esmProbe = `import 'reflect-metadata'; const m = await import(${esmEntry}); console.log(typeof m.WebhooksTestingModule);`;
const esm = execFileSync(process.execPath, ['--input-type=module', '-e', esmProbe], { cwd: root, encoding: 'utf8' });
if (esm.trim() !== 'function') problems.push(`dist/esm/testing/index.js exports no WebhooksTestingModule (${esm.trim()})`);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(
  `entries ok: testing loads ${testing.packages.size} packages, none of ${HEAVY.join(', ')}; ` +
    `the main entry loads neither testing nor ${OPTIONAL.join(', ')}`,
);
