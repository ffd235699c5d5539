import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { createAgentActivities } from './agent';
import { createAnalysisActivities } from './analysis';
import { createPatchActivities } from './patches';
import { createReconcileActivities } from './reconcile';

export interface ActivityDeps {
  config: Config;
  pool: Pool;
  logger: Logger;
}

/** Every activity the worker registers: thin adapters over the domain modules. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createAnalysisActivities(deps),
    ...createAgentActivities(deps),
    ...createPatchActivities(deps),
    ...createReconcileActivities(deps),
  };
}
