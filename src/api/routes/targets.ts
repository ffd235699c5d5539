import { Router } from 'express';
import type { Pool } from 'pg';
import { allowsLocalRepos, type Config } from '../../config';
import { actorOf, hasRole, requireRole } from '../auth';
import { HttpProblem } from '../problem';
import { changeWithAudit } from '../request-audit';
import { fieldProblems, parseBody, parseParams } from '../validation';
import { ForgeDirectory } from '../../forges';
import { healthCheckProblems } from '../../health/registration-problems';
import { createTargetSchema, targetLabelsSchema, uuidParam } from '../schemas';
import { analysisHistory } from '../../store/analyses';
import { createTarget, DuplicateTargetError, getTarget, listTargets, setTargetLabels } from '../../store/targets';

export function targetRoutes(deps: { pool: Pool; config: Config }): Router {
  const router = Router();
  // Loaded once: a target may only name a credential the servers have, on the server its repository is on.
  const forges = ForgeDirectory.load(deps.config.forges.credentials);

  router.post('/targets', requireRole('operator'), async (req, res) => {
    const body = parseBody(createTargetSchema({ allowLocal: allowsLocalRepos(deps.config) }), req.body);
    const healthProblems = healthCheckProblems(body.healthChecks, deps.config.health);
    if (healthProblems.length > 0) {
      throw fieldProblems(healthProblems.map((problem) => ({ path: 'healthChecks', message: `${problem.charAt(0).toUpperCase()}${problem.slice(1)}.` })));
    }
    const forgeProblem = body.forge === undefined ? undefined : forges.problem(body.forge, body.repoUrl);
    if (forgeProblem !== undefined) throw fieldProblems([{ path: 'forge.credential', message: `${forgeProblem.charAt(0).toUpperCase()}${forgeProblem.slice(1)}.` }]);
    const actor = actorOf(res);
    const runsCommands = body.verifyCommand !== undefined || body.healthChecks.some((check) => check.type === 'command');
    if ((runsCommands || body.sandbox !== undefined) && !hasRole(actor, 'admin')) {
      throw new HttpProblem(403, 'Only admins may register commands (verifyCommand, command health checks) and their sandbox settings: they run repository code on the workers.');
    }
    try {
      const target = await changeWithAudit(
        deps.pool,
        req,
        res,
        (client) =>
          createTarget(client, {
            name: body.name,
            repoUrl: body.repoUrl,
            branch: body.branch,
            healthChecks: body.healthChecks,
            verifyCommand: body.verifyCommand ?? null,
            ...(body.sandbox ? { sandbox: body.sandbox } : {}),
            workflowRun: body.workflowRun,
            workflowRunEvent: body.workflowRunEvent,
            workflowRunCalledWorkflows: body.workflowRunCalledWorkflows,
            labels: body.labels,
            ...(body.forge ? { forge: body.forge } : {}),
            delivery: body.delivery,
            createdBy: actor.subject,
          }),
        (created) => ({
          action: 'target.created',
          subjectType: 'target',
          subjectId: created.id,
          details: { name: created.name, repoUrl: created.repoUrl, branch: created.branch, runsCommands, network: created.sandbox.network, workflowRun: created.workflowRun, workflowRunEvent: created.workflowRunEvent, labels: created.labels, forge: created.forge ?? null, delivery: created.delivery?.mode ?? 'push' },
        }),
      );
      res.status(201).location(`/api/v1/targets/${target.id}`).json(target);
    } catch (error) {
      if (error instanceof DuplicateTargetError) throw new HttpProblem(409, error.message);
      throw error;
    }
  });

  // Labels decide which agent policies act on a target: operators set them, as they register targets.
  router.put('/targets/:id/labels', requireRole('operator'), async (req, res) => {
    const { id } = parseParams(uuidParam, req.params);
    const body = parseBody(targetLabelsSchema, req.body);
    const changed = await changeWithAudit(
      deps.pool,
      req,
      res,
      async (client) => {
        const result = await setTargetLabels(client, id, body.labels);
        if (!result) throw new HttpProblem(404, `No target ${id}.`);
        return result;
      },
      ({ before, after }) => ({ action: 'target.labels_changed', subjectType: 'target', subjectId: id, details: { name: after.name, before: before.labels, after: after.labels } }),
    );
    res.json(changed.after);
  });

  router.get('/targets', requireRole('viewer'), async (_req, res) => {
    res.json({ items: await listTargets(deps.pool) });
  });

  router.get('/targets/:id', requireRole('viewer'), async (req, res) => {
    const { id } = parseParams(uuidParam, req.params);
    const target = await getTarget(deps.pool, id);
    if (!target) throw new HttpProblem(404, `No target ${id}.`);
    res.json(target);
  });

  router.get('/targets/:id/health', requireRole('viewer'), async (req, res) => {
    const { id } = parseParams(uuidParam, req.params);
    const target = await getTarget(deps.pool, id);
    if (!target) throw new HttpProblem(404, `No target ${id}.`);
    const history = await analysisHistory(deps.pool, id);
    res.json({
      targetId: id,
      score: history[0]?.score ?? null,
      analysisId: history[0]?.id ?? null,
      history: history.map((a) => ({ analysisId: a.id, score: a.score, commitSha: a.commitSha, at: a.completedAt, summary: a.summary })),
    });
  });

  return router;
}
