// The e2e suite in jest's ESM mode against Nest 12 and TypeORM 1, loading the package's built ESM
// entry point (dist/esm) the way an ESM host does, instead of the TypeScript sources.
export default {
  testEnvironment: 'node',
  rootDir: '.',
  testRegex: 'test/.*\\.e2e-spec\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  moduleNameMapper: {
    '^(\\.{1,2}/)+lib/index\\.js$': '<rootDir>/dist/esm/index.js',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60_000,
  maxWorkers: 2,
};
