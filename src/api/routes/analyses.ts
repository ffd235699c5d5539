import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Config } from '../../config';
import { createFleetScan, getAnalysis, getFindings, getFleetScan } from '../../store/analyses';
import { selectTargets, type TargetSelector } from '../../agent/target-selection';
import { getTarget, getTargets, listTargetNamesAndLabels } from '../../store/targets';
import { analyzeTargetWorkflow } from '../../workflows/analysis';
import { fleetScanProgressQuery, fleetScanWorkflow } from '../../workflows/fleet-scan';
import { actorOf, requireRole } from '../auth';
import { HttpProblem } from '../problem';
import { auditBeforeEffect, changeWithAudit } from '../request-audit';
import { parseBody, parseParams } from '../validation';
import { MAX_FLEET_SCAN_TARGETS, startAnalysisSchema, uuidParam } from '../schemas';

/** How long POST /analyses for one target waits for the result before answering 202 instead. */
const SINGLE_ANALYSIS_WAIT_MS = 120_000;

/** Missing targets named in a refusal: the rest are counted, so a 10,000-id request does not echo 390 KB back. */
const MISSING_NAMED = 5;

/** The ids, each of an existing target, or 422 naming the first missing ones. */
async function existingTargetIds(pool: Pool, ids: string[]): Promise<string[]> {
  const known = new Set((await getTargets(pool, ids)).map((target) => target.id));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length === 0) return ids;
  const more = missing.length > MISSING_NAMED ? ` and ${missing.length - MISSING_NAMED} more` : '';
  throw new HttpProblem(422, `No target ${missing.slice(0, MISSING_NAMED).join(', ')}${more}.`);
}

/** The ids of the targets the selector picks, by name, or 422 when it picks none or more than a scan takes. */
async function selectedTargetIds(pool: Pool, selector: TargetSelector): Promise<string[]> {
  // One more than a scan takes, to tell a fleet that is too large from one that just fits.
  const selected = selectTargets(await listTargetNamesAndLabels(pool, MAX_FLEET_SCAN_TARGETS + 1), selector);
  if (selected.length === 0) throw new HttpProblem(422, 'targets selects no target: no registered target matches it.');
  if (selected.length > MAX_FLEET_SCAN_TARGETS) throw new HttpProblem(422, `targets selects more than ${MAX_FLEET_SCAN_TARGETS} targets, the most one fleet scan takes: narrow it with nameGlob or labels.`);
  return selected.map((target) => target.id);
}

export function analysisRoutes(deps: { pool: Pool; temporalClient: Client; config: Config }): Router {
  const router = Router();
  const { taskQueue } = deps.config.temporal;

  router.post('/analyses', requireRole('operator'), async (req, res) => {
    const body = parseBody(startAnalysisSchema, req.body);
    const actor = actorOf(res);
    if ('targetId' in body) {
      const target = await getTarget(deps.pool, body.targetId);
      if (!target) throw new HttpProblem(422, `No target ${body.targetId}.`);
      const analysisId = randomUUID();
      await auditBeforeEffect(deps.pool, req, res, { action: 'analysis.requested', subjectType: 'analysis', subjectId: analysisId, details: { targetId: target.id } });
      const handle = await deps.temporalClient.workflow.start(analyzeTargetWorkflow, {
        taskQueue,
        workflowId: `analysis-${analysisId}`,
        args: [{ analysisId, targetId: target.id, requestedBy: actor.subject }],
        staticSummary: `analyze ${target.name} (${target.branch})`,
        workflowExecutionTimeout: '15 minutes',
      });
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        handle.result().then(() => true, (error: unknown) => {
          if (error instanceof WorkflowFailedError) return true;
          throw error;
        }),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SINGLE_ANALYSIS_WAIT_MS))),
      ]).finally(() => clearTimeout(timer));
      const analysis = await getAnalysis(deps.pool, analysisId);
      if (!finished || !analysis) {
        res.status(202).location(`/api/v1/analyses/${analysisId}`).json({ id: analysisId, workflowId: handle.workflowId, status: 'running' });
        return;
      }
      res.status(201).location(`/api/v1/analyses/${analysisId}`).json({ ...analysis, findings: await getFindings(deps.pool, analysisId) });
      return;
    }
    const targetIds = 'targetIds' in body ? await existingTargetIds(deps.pool, [...new Set(body.targetIds)]) : await selectedTargetIds(deps.pool, body.targets);
    const scanId = randomUUID();
    const workflowId = `fleet-scan-${scanId}`;
    await changeWithAudit(
      deps.pool,
      req,
      res,
      (client) => createFleetScan(client, { id: scanId, workflowId, targetIds, requestedBy: actor.subject }),
      () => ({ action: 'fleet_scan.requested', subjectType: 'fleet_scan', subjectId: scanId, details: { targets: targetIds.length, ...('targets' in body ? { selector: body.targets } : {}) } }),
    );
    await deps.temporalClient.workflow.start(fleetScanWorkflow, {
      taskQueue,
      workflowId,
      // The target ids stay in the read model (fleet_scans.target_ids): each batch reads its own slice.
      args: [{ scanId, total: targetIds.length, requestedBy: actor.subject, concurrency: body.concurrency }],
      staticSummary: `fleet scan of ${targetIds.length} target(s)`,
    });
    res.status(202).location(`/api/v1/analyses/${scanId}`).json({ id: scanId, workflowId, status: 'running', total: targetIds.length });
  });

  router.get('/analyses/:id', requireRole('viewer'), async (req, res) => {
    const { id } = parseParams(uuidParam, req.params);
    const analysis = await getAnalysis(deps.pool, id);
    if (analysis) {
      res.json({ ...analysis, findings: await getFindings(deps.pool, id) });
      return;
    }
    const scan = await getFleetScan(deps.pool, id);
    if (!scan) throw new HttpProblem(404, `No analysis or fleet scan ${id}.`);
    const progress =
      scan.status === 'running'
        ? await deps.temporalClient.workflow.getHandle(scan.workflowId).query(fleetScanProgressQuery).catch(() => undefined)
        : undefined;
    const done = scan.analyses.filter((a) => a.status !== 'running').length;
    res.json({
      ...scan,
      progress: progress ?? {
        total: scan.targetIds.length,
        succeeded: scan.analyses.filter((a) => a.status === 'succeeded').length,
        failed: scan.analyses.filter((a) => a.status === 'failed').length,
        running: scan.targetIds.length - done,
      },
    });
  });

  return router;
}
