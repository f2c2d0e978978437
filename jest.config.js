/**
 * One suite: unit specs beside the code (lib/**\/*.spec.ts), e2e specs against real services
 * (test/**\/*.e2e-spec.ts), and the sample's own tests (sample/**\/*.spec.ts), which import the package
 * by name as a host does: `nestjs-webhooks` and `nestjs-webhooks/testing` map to lib.
 */
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  testRegex: ['lib/.*\\.spec\\.ts$', 'test/.*\\.e2e-spec\\.ts$', 'sample/.*\\.spec\\.ts$'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^nestjs-webhooks$': '<rootDir>/lib/index.ts',
    '^nestjs-webhooks/testing$': '<rootDir>/lib/testing/index.ts',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  globalSetup: '<rootDir>/scripts/jest-global-setup.cjs',
  // CI's compatibility job copies the suite under .ci/tmp; the builds are not sources.
  modulePathIgnorePatterns: ['<rootDir>/.ci/', '<rootDir>/dist/', '<rootDir>/sample/dist/', '<rootDir>/bench/dist/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/.ci/'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
