/**
 * Agent policies: admins change them, viewers read them. The row and its Temporal Schedule change in one
 * transaction (src/agent/policies.ts): when Temporal does not confirm, the answer is 503 and nothing is stored.
 * Pause, resume and run act on the schedule, so they match what the Temporal CLI and Web UI do.
 */
import { isGrpcServiceError, type Client, ScheduleNotFoundError } from '@temporalio/client';
import { type Request, type Response, Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createPolicy, type PolicyTemporal, removePolicy, replacePolicy } from '../../agent/policies';
import { type Policy, policySpecSchema } from '../../agent/policy';
import { commandPolicySchedule, describePolicySchedule, SCHEDULE_DEADLINE_MS, type ScheduleCommand, startPolicyCycle, upsertPolicySchedule } from '../../agent/policy-schedules';
import type { Config } from '../../config';
import { listCycles } from '../../store/agent';
import { DuplicatePolicyError, getPolicy, listPolicies } from '../../store/policies';
import { isTemporalUnavailable } from '../../temporal/errors';
import { actorOf, requireRole } from '../auth';
import { HttpProblem } from '../problem';
import { auditBeforeEffect, changeWithAudit } from '../request-audit';
import { multiLine, parseBody, parseParams, parseQuery } from '../validation';
import { uuidParam } from '../schemas';

/** grpc.status.INVALID_ARGUMENT: Temporal refused the schedule itself. */
const GRPC_INVALID_ARGUMENT = 3;

/** Pause and resume may say why (the schedule's note, as in the Web UI); run takes nothing. */
const commandSchemas = {
  pause: z.object({ note: multiLine(500).optional() }).strict(),
  resume: z.object({ note: multiLine(500).optional() }).strict(),
  run: z.object({}).strict(),
} satisfies Record<ScheduleCommand | 'run', z.ZodType>;
const cyclesQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

/** Temporal's refusals and outages as problems; anything else stays an error. */
function scheduleProblem(error: unknown, what: string): unknown {
  if (error instanceof HttpProblem) return error;
  if (isTemporalUnavailable(error)) return new HttpProblem(503, `Temporal did not confirm ${what} within ${SCHEDULE_DEADLINE_MS / 1000} s, so nothing was changed; retry in a moment.`);
  const cause = (error as { cause?: unknown }).cause ?? error;
  if (isGrpcServiceError(cause) && Number(cause.code) === GRPC_INVALID_ARGUMENT) return new HttpProblem(422, `Temporal refused the policy's schedule: ${cause.details}.`);
  return error;
}

export function policyRoutes(deps: { pool: Pool; temporalClient: Client; config: Config }): Router {
  const router = Router();
  const temporal: PolicyTemporal = { client: deps.temporalClient, taskQueue: deps.config.temporal.taskQueue };

  async function existing(req: Request): Promise<Policy> {
    const { id } = parseParams(uuidParam, req.params);
    const policy = await getPolicy(deps.pool, id);
    if (!policy) throw new HttpProblem(404, `No policy ${id}.`);
    return policy;
  }

  /** Runs a change of rows and schedule with its audit event; Temporal's answers become problems, duplicates 409. */
  async function change<T>(req: Request, res: Response, what: string, run: Parameters<typeof changeWithAudit<T>>[3], describe: Parameters<typeof changeWithAudit<T>>[4]): Promise<T> {
    try {
      return await changeWithAudit(deps.pool, req, res, run, describe);
    } catch (error) {
      if (error instanceof DuplicatePolicyError) throw new HttpProblem(409, `A policy named ${error.policyName} already exists; change it with PUT /api/v1/policies/:id.`);
      throw scheduleProblem(error, what);
    }
  }

  router.post('/policies', requireRole('admin'), async (req, res) => {
    const spec = parseBody(policySpecSchema, req.body);
    const actor = actorOf(res);
    const policy = await change(req, res, 'the policy\'s schedule', (db) => createPolicy(db, temporal, spec, actor.subject), (created) => ({
      action: 'policy.created',
      subjectType: 'policy',
      subjectId: created.id,
      details: { name: created.name, spec: created.spec },
    }));
    res.status(201).location(`/api/v1/policies/${policy.id}`).json(policy);
  });

  router.get('/policies', requireRole('viewer'), async (_req, res) => {
    res.json({ items: await listPolicies(deps.pool) });
  });

  router.get('/policies/:id', requireRole('viewer'), async (req, res) => {
    const policy = await existing(req);
    res.json({ ...policy, schedule: await describePolicySchedule(deps.temporalClient, policy.id) });
  });

  router.put('/policies/:id', requireRole('admin'), async (req, res) => {
    const before = await existing(req);
    const spec = parseBody(policySpecSchema, req.body);
    const actor = actorOf(res);
    const policy = await change(
      req,
      res,
      'the change of the policy\'s schedule',
      async (db) => {
        const updated = await replacePolicy(db, temporal, before.id, spec, actor.subject);
        if (!updated) throw new HttpProblem(404, `No policy ${before.id}.`);
        return updated;
      },
      (updated) => ({ action: 'policy.updated', subjectType: 'policy', subjectId: updated.id, details: { name: updated.name, before: before.spec, spec: updated.spec } }),
    );
    res.json(policy);
  });

  router.delete('/policies/:id', requireRole('admin'), async (req, res) => {
    const before = await existing(req);
    await change(
      req,
      res,
      'the deletion of the policy\'s schedule',
      async (db) => {
        const deleted = await removePolicy(db, temporal, before.id);
        if (!deleted) throw new HttpProblem(404, `No policy ${before.id}.`);
        return deleted;
      },
      (deleted) => ({ action: 'policy.deleted', subjectType: 'policy', subjectId: deleted.id, details: { name: deleted.name, spec: deleted.spec } }),
    );
    res.status(204).end();
  });

  for (const command of ['pause', 'resume', 'run'] as const) {
    router.post(`/policies/:id/${command}`, requireRole('admin'), async (req, res) => {
      const policy = await existing(req);
      const body = parseBody(commandSchemas[command], req.body ?? {});
      const note = 'note' in body ? body.note : undefined;
      const actor = actorOf(res);
      await auditBeforeEffect(deps.pool, req, res, { action: `policy.${command}_requested`, subjectType: 'policy', subjectId: policy.id, details: { name: policy.name, note: note ?? null } });
      const text = `${command} by ${actor.subject}${note ? `: ${note}` : ''}`;
      if (command === 'run') {
        let workflowId: string;
        try {
          workflowId = await startPolicyCycle(deps.temporalClient, policy, temporal.taskQueue, text);
        } catch (error) {
          throw scheduleProblem(error, 'the start of a cycle of the policy');
        }
        res.status(202).json({ id: policy.id, action: command, cycle: { workflowId }, schedule: await describePolicySchedule(deps.temporalClient, policy.id) });
        return;
      }
      try {
        await commandPolicySchedule(deps.temporalClient, policy.id, command, text).catch(async (error: unknown) => {
          // A schedule lost behind the record's back (deleted in the Web UI) is derived again from the row.
          if (!(error instanceof ScheduleNotFoundError)) throw error;
          await upsertPolicySchedule(deps.temporalClient, policy, temporal.taskQueue);
          await commandPolicySchedule(deps.temporalClient, policy.id, command, text);
        });
      } catch (error) {
        throw scheduleProblem(error, `the ${command} of the policy's schedule`);
      }
      res.status(200).json({ id: policy.id, action: command, schedule: await describePolicySchedule(deps.temporalClient, policy.id) });
    });
  }

  router.get('/policies/:id/cycles', requireRole('viewer'), async (req, res) => {
    const policy = await existing(req);
    const query = parseQuery(cyclesQuery, req.query);
    res.json({ items: await listCycles(deps.pool, policy.id, query.limit) });
  });

  return router;
}
