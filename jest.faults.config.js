/**
 * The fault tests (npm run test:faults): the service on real parts (Temporal dev server, PostgreSQL, git, HTTP
 * health servers, worker processes) while those parts are killed, restarted and stopped. Same transform and shared
 * servers as the main suite (read from jest.config.js); kept out of `npm test` because they take minutes and stop
 * the shared PostgreSQL.
 */
/** @returns {Promise<import('jest').Config>} */
module.exports = async () => {
  const { default: main } = await import('./jest.config.js');
  return {
    ...main,
    testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
    // The main config leaves test/faults out; here they are the only suites.
    testPathIgnorePatterns: ['/node_modules/'],
    testTimeout: 300_000,
    // One suite at a time: they stop the shared PostgreSQL and kill processes, and the machine has 2 cores.
    maxWorkers: 1,
  };
};
