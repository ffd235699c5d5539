/**
 * The real API over a lifecycle harness's Temporal server and database, with tokens it accepts: what the end-to-end
 * tests that drive patches through HTTP share.
 */
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { createAuthenticator } from '../../src/api/auth';
import { signToken } from '../../src/api/dev-tokens';
import type { Role } from '../../src/domain/types';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import type { LifecycleHarness } from './lifecycle';

export interface HarnessApi {
  app: Express;
  /** A token for `subject` with `roles`, signed with the harness's secret. */
  token(subject: string, roles: Role[]): Promise<string>;
}

export async function apiOverHarness(h: LifecycleHarness): Promise<HarnessApi> {
  await ensureSearchAttributes(h.client, 'default');
  const app = createApp({ config: h.config, pool: h.db.pool, temporalClient: h.client, authenticator: createAuthenticator(h.config.auth), logger: pino({ level: 'silent' }) });
  const secret = h.config.auth.jwtSecret ?? '';
  return { app, token: (subject, roles) => signToken(secret, subject, roles) };
}
