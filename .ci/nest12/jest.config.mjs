// The e2e suite in jest's ESM mode against Nest 12 and TypeORM 1, loading the package's built ESM
// entry point (dist/esm) the way an ESM host does, instead of the TypeScript sources.
export default {
  testEnvironment: 'node',
  rootDir: '.',
  testRegex: 'test/.*\\.e2e-spec\\.ts$',
  // It hides @opentelemetry/api with jest.mock, which reaches require() but not a native ESM import().
  testPathIgnorePatterns: ['/node_modules/', '/test/telemetry-absent\\.e2e-spec\\.ts$'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  moduleNameMapper: {
    // A spec that reaches past the public API (the delivery store's) gets the built module too.
    '^(?:\\.\\./)+lib/(.*)\\.js$': '<rootDir>/dist/esm/$1.js',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60_000,
  maxWorkers: 2,
};
