/** What globalSetup hands to the suites (through an environment variable) and to globalTeardown (in memory). */
export const TEST_ENV = 'WPA_TEST_STATE';

export interface SharedTestState {
  scratch: string;
  /** The embedded server's `postgres` database; suites create their own databases through it. */
  adminDatabaseUrl: string;
  /** Data folder of that server, for tests that stop and restart it (test/support/postgres-control.ts). */
  postgresDataDir: string;
  temporalCli: string;
  temporalTestServer: string;
  /** src/workflows bundled once, for every Worker the suites create. */
  workflowBundlePath: string;
}

let local: (SharedTestState & { stopDatabase: () => Promise<void> }) | undefined;

export function setSharedState(state: SharedTestState & { stopDatabase: () => Promise<void> }): void {
  local = state;
}

export function getSharedState(): (SharedTestState & { stopDatabase: () => Promise<void> }) | undefined {
  return local;
}

/** For suites: the state globalSetup published. */
export function sharedTestState(): SharedTestState {
  const raw = process.env[TEST_ENV];
  if (!raw) throw new Error('jest globalSetup did not run (test/support/global-setup.ts)');
  return JSON.parse(raw) as SharedTestState;
}
