/**
 * Analyses stored the way the service stores them: the real analysis activity (checkout, analyzer, read model) run
 * in the SDK's activity context, for tests of patches generated from findings.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { type AnalysisSummary, createAnalysisActivities } from '../../src/activities/analysis';
import type { Config } from '../../src/config';
import type { Finding, Target } from '../../src/domain/types';
import { getFindings } from '../../src/store/analyses';
import type { TestDatabase } from './database';

/** Analyzes the target's branch tip into the read model; returns the analysis id, its commit and its findings. */
export async function analyzeIntoStore(db: TestDatabase, config: Config, target: Target): Promise<{ id: string; commitSha: string; findings: Finding[] }> {
  const activities = createAnalysisActivities({ config, pool: db.pool, logger: pino({ level: 'silent' }) });
  const environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const id = randomUUID();
  const summary = await environment.run<[], AnalysisSummary, () => Promise<AnalysisSummary>>(() => activities.analyzeTarget({ analysisId: id, targetId: target.id, requestedBy: 'test' }));
  return { id, commitSha: summary.commitSha ?? '', findings: await getFindings(db.pool, id) };
}
