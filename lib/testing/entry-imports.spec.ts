import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const LIB = resolve(__dirname, '..');

/**
 * What a module requires at load time, as the build emits it: TypeScript drops imports used only as
 * types, and keeps those that decorator metadata refers to.
 */
function runtimeRequires(file: string): string[] {
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
    },
  });
  return [...outputText.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
}

/** Every lib file and every package reached from `entry` at load time. */
function loadGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of runtimeRequires(file)) {
      if (!specifier.startsWith('.')) {
        packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
        continue;
      }
      const base = join(dirname(file), specifier.replace(/\.js$/, ''));
      visit(existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts'));
    }
  };
  visit(entry);
  return { files, packages };
}

describe('package entries', () => {
  it('nestjs-webhooks/testing loads neither TypeORM, Bull nor ioredis', () => {
    const { files, packages } = loadGraph(join(LIB, 'testing/index.ts'));
    expect(files).toContain(join(LIB, 'emit/webhook-publisher.ts'));
    expect(packages).toContain('@nestjs/common');
    for (const heavy of ['typeorm', '@nestjs/typeorm', 'bull', '@nestjs/bull', 'ioredis']) expect(packages).not.toContain(heavy);
  });

  it('the main entry does not load the testing module', () => {
    const { files, packages } = loadGraph(join(LIB, 'index.ts'));
    expect(packages).toContain('typeorm');
    expect([...files].map((file) => relative(LIB, file)).filter((file) => file.startsWith('testing'))).toEqual([]);
  });
});
