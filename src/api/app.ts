/**
 * The Express application: thin routes that validate, authorize, start workflows, send signals and read the
 * PostgreSQL read model. Every error leaves as problem+json.
 */
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { type Authenticator, authenticate, requireRole } from './auth';
import { requestId, requireJsonBody, securityHeaders } from './middleware';
import { auditDeniedRequests } from './request-audit';
import { errorHandler, notFoundHandler } from './problem';
import { refuseUnsafeText } from './validation';
import { analysisRoutes } from './routes/analyses';
import { auditRoutes } from './routes/audit';
import { campaignRoutes } from './routes/campaigns';
import { healthRoutes } from './routes/health';
import { patchRoutes } from './routes/patches';
import { policyRoutes } from './routes/policies';
import { reportRoutes } from './routes/reports';
import { targetRoutes } from './routes/targets';

export interface ApiDeps {
  config: Config;
  pool: Pool;
  temporalClient: Client;
  authenticator: Authenticator;
  logger: Logger;
}

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestId);
  app.use(securityHeaders);
  app.use(
    healthRoutes({
      pool: deps.pool,
      temporalClient: deps.temporalClient,
      taskQueue: deps.config.temporal.taskQueue,
    }),
  );

  const api = express.Router();
  api.use(auditDeniedRequests(deps.pool, deps.logger));
  api.use(authenticate(deps.authenticator));
  api.use(requireJsonBody);
  api.use(express.json({ limit: '1mb', strict: true }));
  api.use(refuseUnsafeText);
  api.get('/whoami', requireRole('viewer'), (_req, res) => {
    res.json(res.locals.actor);
  });
  api.use(targetRoutes(deps));
  api.use(analysisRoutes(deps));
  api.use(patchRoutes(deps));
  api.use(policyRoutes(deps));
  api.use(campaignRoutes(deps));
  api.use(auditRoutes(deps));
  api.use(reportRoutes(deps));
  app.use('/api/v1', api);

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
