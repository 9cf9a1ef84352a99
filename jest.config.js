// @ts-check
/** Unit tests sit beside the code (src/**\/*.test.ts, no network); integration tests live in test/ and use real servers. */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  // ES-module-only packages (the Kafka client and its helpers): see jest.esm-to-cjs.js
  '/node_modules/@platformatic/.+\\.js$': '<rootDir>/jest.esm-to-cjs.js',
};
const transformIgnorePatterns = ['/node_modules/(?!@platformatic/)'];
const moduleNameMapper = { '^@mupets/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts' };

/** @type {import('jest').Config} */
module.exports = {
  // integration tests start servers and kill them; each waits for conditions with its own bounds
  testTimeout: 120000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
      testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/images/*/src/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
      testMatch: [
        '<rootDir>/packages/*/test/**/*.test.ts',
        '<rootDir>/images/*/test/**/*.test.ts',
        // the service generator (scripts/new-service); its template's own tests run in the services it makes
        '<rootDir>/scripts/*/test/**/*.test.ts',
        // the scripts' own (scripts/test): the dev images' entry point
        '<rootDir>/scripts/test/**/*.test.ts',
      ],
      globalSetup: '<rootDir>/packages/testkit/src/global-setup.ts',
      globalTeardown: '<rootDir>/packages/testkit/src/global-teardown.ts',
    },
  ],
};
