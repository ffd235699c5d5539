/**
 * An API instance over a real test database, for HTTP-level tests with supertest. Temporal is whatever the test
 * passes (a real server, or an address nothing listens on, for tests that never reach Temporal).
 */
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { createAuthenticator } from '../../src/api/auth';
import { signToken } from '../../src/api/dev-tokens';
import { type Config, loadConfig } from '../../src/config';
import { NO_ACTION_REPOSITORIES_URL } from './git-fixtures';
import type { Role, Target } from '../../src/domain/types';
import { createTarget } from '../../src/store/targets';
import { createTestDatabase, type TestDatabase } from './database';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** A small valid patch for the API's patch routes: adds `permissions: {}` to a CI workflow. */
export const PERMISSIONS_DIFF = [
  'diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml',
  '--- a/.github/workflows/ci.yml',
  '+++ b/.github/workflows/ci.yml',
  '@@ -1,2 +1,3 @@',
  ' name: ci',
  '+permissions: {}',
  ' on: push',
  '',
].join('\n');

/** A target stored directly (as registered earlier), watched by an HTTP check on a port nothing listens on. */
export function storedTarget(db: TestDatabase, name: string): Promise<Target> {
  return createTarget(db.pool, {
    name,
    repoUrl: `/tmp/${name.replace('/', '-')}.git`,
    branch: 'main',
    healthChecks: [{ type: 'http', url: 'http://127.0.0.1:9/ok', expectStatus: 200, timeoutMs: 1000 }],
    verifyCommand: null,
    createdBy: 'test',
  });
}

export interface TestApi {
  app: Express;
  db: TestDatabase;
  config: Config;
  temporalClient: Client;
  token(roles: Role[], subject?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApi(options: { env?: NodeJS.ProcessEnv; temporalClient?: Client } = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const config = loadConfig({ JWT_SECRET: TEST_JWT_SECRET, DATABASE_URL: db.url, ALLOW_LOCAL_REPOS: 'true', ACTIONS_GIT_BASE_URL: NO_ACTION_REPOSITORIES_URL, ...options.env });
  // Port 1 on loopback: nothing listens, so Temporal calls fail fast instead of hanging.
  const temporalClient = options.temporalClient ?? new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const app = createApp({ config, pool: db.pool, temporalClient, authenticator: createAuthenticator(config.auth), logger: pino({ level: 'silent' }) });
  return {
    app,
    db,
    config,
    temporalClient,
    token: (roles, subject = `user-${roles.join('-') || 'none'}`) => signToken(TEST_JWT_SECRET, subject, roles, '1h'),
    close: async () => {
      if (!options.temporalClient) await temporalClient.connection.close();
      await db.drop();
    },
  };
}
