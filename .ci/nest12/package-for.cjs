// Writes the compatibility job's package.json: the project's dev dependencies with Nest 12 and
// TypeORM 1 in place of Nest 11 and TypeORM 0.3, and no SQLite (the job runs on PostgreSQL).
const project = require('../../package.json');
const devDependencies = {
  ...project.devDependencies,
  '@nestjs/common': '^12.0.0',
  '@nestjs/core': '^12.0.0',
  '@nestjs/platform-express': '^12.0.0',
  '@nestjs/testing': '^12.0.0',
  '@nestjs/typeorm': '^12.0.0',
  '@nestjs/bull': '^12.0.0',
  '@nestjs/swagger': '^12.0.0',
  '@nestjs/terminus': '^12.0.0',
  typeorm: '^1.0.0',
};
delete devDependencies['better-sqlite3'];
const pkg = { name: 'nestjs-webhooks-nest12-esm', private: true, type: 'module', dependencies: project.dependencies, devDependencies };
process.stdout.write(JSON.stringify(pkg, null, 2) + '\n');
