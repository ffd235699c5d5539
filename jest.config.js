/**
 * Packages published only as ES modules that the code under test imports: @octokit's (the GitHub adapter's client)
 * and the three they import that have no CommonJS build. Node 20.19+ loads them with require() at run time, but
 * jest's own module loader cannot, so jest compiles these (and what an @octokit package nests in its own
 * node_modules: @octokit/request's content-type 3) to CommonJS. Everything else in node_modules stays as it is.
 */
const esModulePackages = ['@octokit/', 'before-after-hook/', 'universal-user-agent/', 'universal-github-app-jwt/'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault tests take minutes and stop shared servers: they run on their own (npm run test:faults).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
    '/node_modules/.+\\.js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Ignored: a file whose innermost node_modules folder is neither one of those packages nor inside an @octokit one.
  transformIgnorePatterns: [`(?<!/node_modules/@octokit/[^/]+)/node_modules/(?!${esModulePackages.join('|')})(?!.*/node_modules/)`],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  // Temporal and PostgreSQL suites share servers started in globalSetup: run in band on this 2-core machine.
  maxWorkers: 1,
  // The Temporal worker's native runtime can keep the process alive after the last suite (sdk-typescript #851).
  forceExit: true,
};
