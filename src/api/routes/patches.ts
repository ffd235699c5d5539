/**
 * The patch API: creating a patch starts its lifecycle workflow (`patch-<id>`); reads come from the PostgreSQL
 * read model plus the live `status` query; Guardian actions are Temporal Updates (whose validators refuse
 * self-approval, duplicates and wrong states synchronously) or, for abort, a Signal.
 */
import { randomUUID } from 'node:crypto';
import { type Request, type Response, Router } from 'express';
import { type Client, WorkflowIdReusePolicy, WorkflowNotFoundError, type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Pool } from 'pg';
import { allowsLocalRepos, type Config, gitWorkRoot } from '../../config';
import { type Actor, type PatchState, type PatchStatus, TERMINAL_PATCH_STATUSES } from '../../domain/types';
import {
  lifecycleInput,
  patchCreatedDetails,
  PatchRefused,
  PatchSourceUnavailable,
  patchSpecFor,
  patchWorkflowId,
  planFromDiff,
  planFromFindings,
  storePatch,
} from '../../patching/create-patch';
import type { GenerationEnvironment } from '../../patching/from-findings';
import { appendAuditEvent } from '../../store/audit';
import { listTargetDiffs, type TargetDiff } from '../../store/patch-target-diffs';
import { getPatch, listPatches, type PatchDetail, recordPatchTransition } from '../../store/patches';
import { taskQueueLiveness } from '../../store/worker-heartbeats';
import { isTemporalUnavailable } from '../../temporal/errors';
import {
  abortSignal,
  approveUpdate,
  patchLifecycleWorkflow,
  patchStatusQuery,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
} from '../../workflows/patch-lifecycle';
import { patchStartSearchAttributes } from '../../workflows/search-attributes';
import { ForgeDirectory } from '../../forges';
import { actorOf, requireRole } from '../auth';
import { HttpProblem } from '../problem';
import { auditBeforeEffect, changeWithAudit } from '../request-audit';
import { fieldProblems, parseBody, parseParams, parseQuery } from '../validation';
import {
  abortPatchSchema,
  approvePatchSchema,
  createPatchSchema,
  encodePatchCursor,
  listPatchesQuery,
  pausePatchSchema,
  rejectPatchSchema,
  resumePatchSchema,
  uuidParam,
} from '../schemas';

/** A status query is asked only while a worker's heartbeat is fresh, and must still not hold a read up for long. */
const STATUS_QUERY_DEADLINE_MS = 1_000;
/** Starting a workflow, an Update (which waits for a worker to run its validator) or a Signal. */
const ACTION_DEADLINE_MS = 10_000;

type PatchAction = 'approve' | 'reject' | 'pause' | 'resume' | 'abort';

interface ActionContext {
  patch: PatchDetail;
  handle: WorkflowHandle<typeof patchLifecycleWorkflow>;
  actor: Actor;
  action: PatchAction;
  requestId: string;
  method: string;
  path: string;
}

/** A target's own diff as GET /patches/:id shows it. */
function shownTargetDiff(entry: TargetDiff) {
  return {
    targetId: entry.targetId,
    target: entry.targetName,
    analysisId: entry.analysisId,
    analysisCommit: entry.analysisCommit,
    baseCommit: entry.baseCommit,
    regenerated: entry.regeneratedFrom === null ? null : { from: entry.regeneratedFrom, to: entry.baseCommit, at: entry.regeneratedAt },
    selection: entry.selection,
    diffSha256: entry.diffSha256,
    diff: entry.diff,
    findings: entry.findings,
  };
}

function isTerminal(status: PatchStatus): boolean {
  return TERMINAL_PATCH_STATUSES.includes(status);
}

function temporalUnavailable(what: string): HttpProblem {
  return new HttpProblem(503, `Temporal did not confirm ${what} within ${ACTION_DEADLINE_MS / 1000} s; retry with the same X-Request-Id.`);
}

export function patchRoutes(deps: { pool: Pool; temporalClient: Client; config: Config }): Router {
  const router = Router();
  const client = deps.temporalClient;
  const within = <T>(ms: number, call: () => Promise<T>): Promise<T> => client.connection.withDeadline(Date.now() + ms, call);

  /**
   * The live state from the workflow, or null when it cannot answer now (no live worker, Temporal down, closed).
   * Without a fresh worker heartbeat the query is not even sent: Temporal would hold it until its deadline.
   */
  async function liveState(workflowId: string): Promise<PatchState | null> {
    try {
      const { liveWorkers } = await taskQueueLiveness(deps.pool, deps.config.temporal.taskQueue);
      if (liveWorkers === 0) return null;
      return await within(STATUS_QUERY_DEADLINE_MS, () => client.workflow.getHandle(workflowId).query(patchStatusQuery));
    } catch {
      return null;
    }
  }

  async function actionContext(req: Request, res: Response, action: PatchAction): Promise<ActionContext> {
    const { id } = parseParams(uuidParam, req.params);
    const patch = await getPatch(deps.pool, id);
    if (!patch) throw new HttpProblem(404, `No patch ${id}.`);
    return {
      patch,
      handle: client.workflow.getHandle<typeof patchLifecycleWorkflow>(patch.workflowId),
      actor: actorOf(res),
      action,
      requestId: String(res.getHeader('x-request-id') ?? randomUUID()),
      method: req.method,
      path: req.originalUrl.split('?')[0] ?? req.originalUrl,
    };
  }

  /** Records why an action was refused (the request audit only knows the status code), then answers 409. */
  async function refuse(ctx: ActionContext, reason: string): Promise<never> {
    await appendAuditEvent(deps.pool, {
      actor: ctx.actor.subject,
      roles: ctx.actor.roles,
      action: 'patch.action_refused',
      subjectType: 'patch',
      subjectId: ctx.patch.id,
      requestId: ctx.requestId,
      method: ctx.method,
      path: ctx.path,
      status: 409,
      details: { action: ctx.action, reason },
    });
    throw new HttpProblem(409, reason, { action: ctx.action });
  }

  /**
   * Records the request (`patch.<action>_requested`, with the caller's words), then sends the Update or Signal
   * and turns Temporal's answers into problems a client can act on.
   */
  async function deliver<T>(ctx: ActionContext, req: Request, res: Response, words: Record<string, unknown>, send: () => Promise<T>): Promise<T> {
    await auditBeforeEffect(deps.pool, req, res, { action: `patch.${ctx.action}_requested`, subjectType: 'patch', subjectId: ctx.patch.id, details: words });
    try {
      return await within(ACTION_DEADLINE_MS, send);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) return refuse(ctx, error.cause?.message ?? error.message);
      if (error instanceof WorkflowNotFoundError) {
        // The server answers NOT_FOUND both for a closed run and for a missing one; describe tells them apart.
        const description = await within(ACTION_DEADLINE_MS, () => ctx.handle.describe()).catch(() => undefined);
        if (description && description.status.name !== 'RUNNING') {
          const ended = description.status.name.toLowerCase();
          return refuse(ctx, `Patch ${ctx.patch.id} has ended (workflow ${ended}, status ${ctx.patch.status}); it accepts no more actions.`);
        }
        throw new HttpProblem(404, `The lifecycle workflow ${ctx.patch.workflowId} of patch ${ctx.patch.id} does not exist.`);
      }
      if (isTemporalUnavailable(error)) throw temporalUnavailable(`the ${ctx.action}`);
      throw error;
    }
  }

  /** An Update's answer: the lifecycle's state right after the workflow applied it. */
  function answer(res: Response, ctx: ActionContext, state: PatchState): void {
    res.json({ id: ctx.patch.id, workflowId: ctx.patch.workflowId, action: ctx.action, state });
  }

  const repoUrls = { allowLocal: allowsLocalRepos(deps.config) };
  const forges = ForgeDirectory.load(deps.config.forges.credentials);
  const generation: GenerationEnvironment = {
    workRoot: gitWorkRoot(deps.config),
    git: { repoUrlPolicy: repoUrls },
    actions: deps.config.actions,
    gitAccess: (target) => forges.gitAccess(target),
  };

  /** Runs a step of patch creation, turning its refusals into problems the caller can act on. */
  async function refusalsAsProblems<T>(step: () => T | Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof PatchRefused) throw error.errors ? fieldProblems(error.errors) : new HttpProblem(422, error.message, error.details);
      if (error instanceof PatchSourceUnavailable) throw new HttpProblem(502, error.message);
      throw error;
    }
  }

  router.post('/patches', requireRole('operator'), async (req, res) => {
    const body = parseBody(createPatchSchema, req.body);
    const actor = actorOf(res);
    const plan = await refusalsAsProblems(() => (body.source === 'diff' ? planFromDiff(deps.pool, body, generation) : planFromFindings(deps.pool, body, generation)));
    const spec = await refusalsAsProblems(() => patchSpecFor(plan, { author: actor.subject, rollout: body.rollout, approval: body.approval, quietWindows: body.quietWindows }));
    const { id, targets } = spec;
    const workflowId = patchWorkflowId(id);
    // Fingerprints are counted, not listed: a request may name thousands.
    const generatedFrom =
      body.source === 'findings'
        ? { fromFindings: { ...body.fromFindings, fingerprints: body.fromFindings.fingerprints?.length }, skippedTargets: plan.skippedTargets }
        : {};
    const created = await changeWithAudit(
      deps.pool,
      req,
      res,
      (client) => storePatch(client, spec, plan),
      (created) => ({ action: 'patch.created', subjectType: 'patch', subjectId: id, details: patchCreatedDetails(spec, created.diffSha256, generatedFrom) }),
    );
    try {
      await within(ACTION_DEADLINE_MS, () =>
        client.workflow.start(patchLifecycleWorkflow, {
          taskQueue: deps.config.temporal.taskQueue,
          workflowId,
          args: [lifecycleInput(spec, created.diffSha256)],
          staticSummary: spec.title,
          typedSearchAttributes: patchStartSearchAttributes({ type: spec.type, targets }),
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        }),
      );
    } catch (error) {
      // Seq 0 sits between creation (-1) and the workflow's first transition (1): should the start have reached
      // Temporal after all, the workflow's own transitions still win.
      const reason = `the lifecycle workflow could not be started: ${error instanceof Error ? error.message : String(error)}`;
      await recordPatchTransition(deps.pool, { patchId: id, seq: 0, from: 'pending', to: 'failed', reason, at: new Date().toISOString() });
      if (isTemporalUnavailable(error)) throw temporalUnavailable('the start of the patch lifecycle');
      throw error;
    }
    const answer = { id, workflowId, status: 'pending' satisfies PatchStatus, approval: spec.approval };
    if (body.source === 'diff') {
      res.status(202).location(`/api/v1/patches/${id}`).json(answer);
      return;
    }
    res.status(202).location(`/api/v1/patches/${id}`).json({
      ...answer,
      title: spec.title,
      type: spec.type,
      targetDiffs: plan.targetDiffs.map((entry) => ({ targetId: entry.targetId, analysisId: entry.analysisId, findings: entry.findings.length })),
      skippedTargets: plan.skippedTargets,
    });
  });

  // Pages as GitHub's and Kubernetes' lists do: `next` (and a `Link: <...>; rel="next"` header) continues the list.
  router.get('/patches', requireRole('viewer'), async (req, res) => {
    const query = parseQuery(listPatchesQuery, req.query);
    const page = await listPatches(deps.pool, { status: query.status, targetId: query.target, limit: query.limit, after: query.cursor });
    const next = page.next ? encodePatchCursor(page.next) : null;
    if (next) {
      const nextQuery = new URLSearchParams({ ...(query.status ? { status: query.status } : {}), ...(query.target ? { target: query.target } : {}), limit: String(query.limit), cursor: next });
      res.setHeader('Link', `<${req.baseUrl}${req.path}?${nextQuery.toString()}>; rel="next"`);
    }
    res.json({ items: page.items, next });
  });

  router.get('/patches/:id', requireRole('viewer'), async (req, res) => {
    const { id } = parseParams(uuidParam, req.params);
    const patch = await getPatch(deps.pool, id);
    if (!patch) throw new HttpProblem(404, `No patch ${id}.`);
    const [live, targetDiffs] = await Promise.all([isTerminal(patch.status) ? null : liveState(patch.workflowId), listTargetDiffs(deps.pool, id)]);
    res.json({ ...patch, targetDiffs: targetDiffs.map(shownTargetDiff), live });
  });

  router.post('/patches/:id/approve', requireRole('guardian'), async (req, res) => {
    const body = parseBody(approvePatchSchema, req.body ?? {});
    const ctx = await actionContext(req, res, 'approve');
    // Groups come from the token only: a body cannot claim membership.
    const update = { comment: body.comment ?? null, guardian: ctx.actor.subject, ...(ctx.actor.groups ? { groups: ctx.actor.groups } : {}) };
    answer(res, ctx, await deliver(ctx, req, res, { comment: update.comment }, () => ctx.handle.executeUpdate(approveUpdate, { args: [update], updateId: ctx.requestId })));
  });

  router.post('/patches/:id/reject', requireRole('guardian'), async (req, res) => {
    const body = parseBody(rejectPatchSchema, req.body ?? {});
    const ctx = await actionContext(req, res, 'reject');
    const update = { reason: body.reason, guardian: ctx.actor.subject };
    answer(res, ctx, await deliver(ctx, req, res, { reason: update.reason }, () => ctx.handle.executeUpdate(rejectUpdate, { args: [update], updateId: ctx.requestId })));
  });

  router.post('/patches/:id/pause', requireRole('guardian'), async (req, res) => {
    const body = parseBody(pausePatchSchema, req.body ?? {});
    const ctx = await actionContext(req, res, 'pause');
    const update = { by: ctx.actor.subject, reason: body.reason ?? null };
    answer(res, ctx, await deliver(ctx, req, res, { reason: update.reason }, () => ctx.handle.executeUpdate(pauseUpdate, { args: [update], updateId: ctx.requestId })));
  });

  router.post('/patches/:id/resume', requireRole('guardian'), async (req, res) => {
    parseBody(resumePatchSchema, req.body ?? {});
    const ctx = await actionContext(req, res, 'resume');
    const update = { by: ctx.actor.subject };
    answer(res, ctx, await deliver(ctx, req, res, {}, () => ctx.handle.executeUpdate(resumeUpdate, { args: [update], updateId: ctx.requestId })));
  });

  router.post('/patches/:id/abort', requireRole('guardian'), async (req, res) => {
    const body = parseBody(abortPatchSchema, req.body ?? {});
    const ctx = await actionContext(req, res, 'abort');
    // A Signal has no validator: check the state first. Without a live answer the signal is still sent, since
    // Temporal delivers it whenever a worker runs again, and the workflow ignores it once finished.
    const status = isTerminal(ctx.patch.status) ? ctx.patch.status : (await liveState(ctx.patch.workflowId))?.status;
    if (status && isTerminal(status)) await refuse(ctx, `Patch ${ctx.patch.id} is ${status}; there is nothing to abort.`);
    await deliver(ctx, req, res, { reason: body.reason }, () => ctx.handle.signal(abortSignal, { by: ctx.actor.subject, reason: body.reason }));
    res.status(202).json({ id: ctx.patch.id, workflowId: ctx.patch.workflowId, action: ctx.action });
  });

  return router;
}
