/**
 * The lifecycle's bookkeeping: what it writes to the read model and the audit trail. Every write is keyed (patch +
 * seq, guardian, target, round), so a retried activity never records anything twice; deployment rows carry the
 * workflow's step number, so a late write never overwrites a newer one. Each write commits in one transaction with
 * its audit events (the audit chain's lock taken last), so neither is ever stored without the other. The workflow
 * never waits on these writes to decide anything (approvals excepted: an approval counts only once stored).
 */
import { log } from '@temporalio/activity';
import type { Pool } from 'pg';
import { withTransaction } from '../store/db';
import type { ApprovalRecord, DeploymentStatus, PatchStatus } from '../domain/types';
import type { HealthSample } from '../health/types';
import { rememberRejectedFixes } from '../store/agent';
import { appendAuditEvent, appendAuditEvents, type AuditEventInput } from '../store/audit';
import { type DeploymentInput, recordPatchTransition, saveApproval, saveDeployment, saveHealthRounds } from '../store/patches';

/** The audit actor of what the lifecycle does on its own (people's decisions are recorded under their name). */
export const LIFECYCLE_ACTOR = 'system:patch-lifecycle';

export interface RecordTransitionInput {
  patchId: string;
  /** Increases with every transition of the patch; a lower seq never overwrites the stored status. */
  seq: number;
  from: PatchStatus | null;
  to: PatchStatus;
  reason: string | null;
  /** ISO 8601, the workflow's time of the transition. */
  at: string;
}

export interface RecordApprovalInput {
  patchId: string;
  approval: ApprovalRecord;
}

/** A deployment row, plus the target's name for the audit event of a deploy or revert. */
export interface RecordDeploymentInput extends DeploymentInput {
  targetName?: string;
}

export interface RecordHealthRoundInput {
  patchId: string;
  target: { id: string; name: string };
  wave: number;
  round: number;
  commit: string;
  samples: HealthSample[];
}

/** Runs a write whose failure must not change the activity's outcome (the workflow records it again); true when stored. */
export async function bestEffort(what: string, write: () => Promise<void>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    log.warn(`could not record ${what}; the workflow records it again`, { error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}

/** The deployment row, plus the audit event of a deploy (`deployment.deployed`) or revert (`deployment.reverted`). */
export function storeDeployment(pool: Pool, input: RecordDeploymentInput): Promise<void> {
  return storeDeployments(pool, [input]);
}

/** storeDeployment for many deployments: the rows in order, then their audit events with one append. */
export async function storeDeployments(pool: Pool, inputs: readonly RecordDeploymentInput[]): Promise<void> {
  await withTransaction(pool, async (client) => {
    for (const input of inputs) await saveDeployment(client, input);
    await appendAuditEvents(client, inputs.flatMap((input) => {
      const audited = DEPLOYMENT_AUDIT_ACTIONS[input.status];
      return audited === undefined ? [] : [deploymentAuditEvent(input, audited)];
    }));
  });
}

function deploymentAuditEvent(input: RecordDeploymentInput, { action, key }: { action: string; key: string }): AuditEventInput {
  const deployed = input.status === 'deployed';
  const pullRequest = input.revertPullRequest ?? input.pullRequest;
  return {
    actor: LIFECYCLE_ACTOR,
    action,
    subjectType: 'patch',
    subjectId: input.patchId,
    details: {
      targetId: input.targetId,
      targetName: input.targetName ?? null,
      wave: input.wave,
      status: input.status,
      ...(deployed ? { commitSha: input.deployedCommit ?? null, previousCommit: input.previousCommit ?? null } : {}),
      ...(input.status === 'reverted' || input.status === 'skipped' ? { revertCommit: input.revertCommit ?? null } : {}),
      ...(input.status === 'declined' ? { reason: input.error ?? null } : {}),
      ...(pullRequest ? { pullRequest: pullRequest.url } : {}),
    },
    idempotencyKey: `patch:${input.patchId}:${key}:${input.targetId}`,
  };
}

/** The deployment statuses the audit trail records, as what, and the key that makes a repeated write one event. */
const DEPLOYMENT_AUDIT_ACTIONS: Partial<Record<DeploymentStatus, { action: string; key: string }>> = {
  deployed: { action: 'deployment.deployed', key: 'deploy' },
  reverted: { action: 'deployment.reverted', key: 'revert' },
  skipped: { action: 'deployment.reverted', key: 'revert' },
  declined: { action: 'deployment.declined', key: 'decline' },
};

/** One round of a target's samples and its `health.sampled` audit event. */
export function storeHealthRound(pool: Pool, input: RecordHealthRoundInput): Promise<void> {
  return storeHealthRounds(pool, [input]);
}

/** A round of many targets' samples (a wave's), with one insert and one audit append of all their `health.sampled` events. */
export async function storeHealthRounds(pool: Pool, inputs: readonly RecordHealthRoundInput[]): Promise<void> {
  const events = inputs.map((input) => ({
    actor: LIFECYCLE_ACTOR,
    action: 'health.sampled',
    subjectType: 'patch',
    subjectId: input.patchId,
    details: {
      targetId: input.target.id,
      targetName: input.target.name,
      wave: input.wave,
      round: input.round,
      commit: input.commit,
      samples: input.samples.map(({ check, ok, detail, error }) => ({ check, ok, detail, ...(error ? { error } : {}) })),
    },
    idempotencyKey: `patch:${input.patchId}:health:${input.target.id}:${input.wave}:${input.round}`,
  }));
  await withTransaction(pool, async (client) => {
    await saveHealthRounds(client, inputs.map(({ patchId, target, wave, round, samples }) => ({ patchId, targetId: target.id, wave, round, samples })));
    await appendAuditEvents(client, events);
  });
}

export function createPatchBookkeeping(pool: Pool) {
  return {
    /** Records a status change of the patch: history row, current status (if newest), audit `patch.<to>`. */
    async recordTransition(input: RecordTransitionInput): Promise<void> {
      await withTransaction(pool, async (client) => {
        await recordPatchTransition(client, input);
        await appendAuditEvent(client, {
          actor: LIFECYCLE_ACTOR,
          action: `patch.${input.to}`,
          subjectType: 'patch',
          subjectId: input.patchId,
          details: { seq: input.seq, from: input.from, to: input.to, reason: input.reason },
          idempotencyKey: `patch:${input.patchId}:transition:${input.seq}`,
          at: new Date(input.at),
        });
      });
    },

    /**
     * Records a guardian's decision and audits it as `patch.approved` / `patch.rejected`; a rejected agent patch's
     * fixes are remembered, so the agent does not propose them again.
     */
    async recordApproval(input: RecordApprovalInput): Promise<void> {
      const { approval } = input;
      await withTransaction(pool, async (client) => {
        await saveApproval(client, input.patchId, approval);
        if (approval.decision === 'rejected') {
          await rememberRejectedFixes(client, { patchId: input.patchId, guardian: approval.guardian, reason: approval.comment, at: approval.at });
        }
        await appendAuditEvent(client, {
          actor: approval.guardian,
          roles: ['guardian'],
          action: `patch.${approval.decision}`,
          subjectType: 'patch',
          subjectId: input.patchId,
          details: { comment: approval.comment, ...(approval.groups ? { groups: approval.groups } : {}) },
          idempotencyKey: `patch:${input.patchId}:approval:${approval.guardian}`,
          at: new Date(approval.at),
        });
      });
    },

    /** Sets a deployment's status, commits and error (and audits deploys and reverts). */
    async recordDeployment(input: RecordDeploymentInput): Promise<void> {
      await storeDeployment(pool, input);
    },

    /**
     * recordDeployment for many deployments in one activity (a wave's reverts): one task instead of one per target.
     * A retry writes them all again, which changes nothing (rows keyed by seq, audit events by key).
     */
    async recordDeployments(inputs: RecordDeploymentInput[]): Promise<void> {
      await storeDeployments(pool, inputs);
    },

    /** Stores a round of health samples the workflow already evaluated. */
    async recordHealthRound(input: RecordHealthRoundInput): Promise<void> {
      await storeHealthRound(pool, input);
    },

    /** recordHealthRound for every watched target of a round in one activity (one task, one insert, one audit append). */
    async recordHealthRounds(inputs: RecordHealthRoundInput[]): Promise<void> {
      await storeHealthRounds(pool, inputs);
    },
  };
}
