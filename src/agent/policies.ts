/**
 * Changing agent policies: the row (the record) and its Temporal Schedule (derived) change together inside the
 * caller's transaction, so when Temporal cannot confirm the schedule change the transaction rolls back and nothing
 * is stored. Should the commit fail after Temporal changed the schedule, the next start repairs it
 * (reconcilePolicySchedules), and a cycle whose policy is gone ends at once.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import canonicalize from 'canonicalize';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { ConfigError } from '../config';
import { appendAuditEvent } from '../store/audit';
import { withTransaction } from '../store/db';
import { deletePolicy, getPolicyByNameForUpdate, insertPolicy, listPolicies, updatePolicy } from '../store/policies';
import type { Policy, PolicySpec } from './policy';
import { PolicyFileError, readPolicyFile } from './policy-file';
import { deletePolicySchedule, upsertPolicySchedule } from './policy-schedules';

export interface PolicyTemporal {
  client: Client;
  taskQueue: string;
}

/** The audit actor of policies loaded from AGENT_POLICY_FILE. */
export const POLICY_FILE_ACTOR = 'system:policy-file';

export async function createPolicy(db: PoolClient, temporal: PolicyTemporal, spec: PolicySpec, by: string): Promise<Policy> {
  const policy = await insertPolicy(db, { id: randomUUID(), spec, by });
  await upsertPolicySchedule(temporal.client, policy, temporal.taskQueue);
  return policy;
}

/** Replaces a policy's spec and its schedule; undefined when there is no such policy. */
export async function replacePolicy(db: PoolClient, temporal: PolicyTemporal, id: string, spec: PolicySpec, by: string): Promise<Policy | undefined> {
  const policy = await updatePolicy(db, { id, spec, by });
  if (policy) await upsertPolicySchedule(temporal.client, policy, temporal.taskQueue);
  return policy;
}

/** Deletes a policy and its schedule; undefined when there is no such policy. */
export async function removePolicy(db: PoolClient, temporal: PolicyTemporal, id: string): Promise<Policy | undefined> {
  const policy = await deletePolicy(db, id);
  if (policy) await deletePolicySchedule(temporal.client, id);
  return policy;
}

export function sameSpec(a: PolicySpec, b: PolicySpec): boolean {
  return canonicalize(a) === canonicalize(b);
}

/**
 * Creates or updates each policy by name, audited as `policy.created` / `policy.updated` by the policy file; a
 * policy whose stored spec is the same is left alone, so loading the file again changes nothing.
 */
export async function applyPolicyFile(pool: Pool, temporal: PolicyTemporal, file: string, specs: readonly PolicySpec[]): Promise<{ created: string[]; updated: string[] }> {
  const created: string[] = [];
  const updated: string[] = [];
  for (const spec of specs) {
    await withTransaction(pool, async (db) => {
      const existing = await getPolicyByNameForUpdate(db, spec.name);
      if (existing && sameSpec(existing.spec, spec)) return;
      const policy = existing ? await replacePolicy(db, temporal, existing.id, spec, POLICY_FILE_ACTOR) : await createPolicy(db, temporal, spec, POLICY_FILE_ACTOR);
      if (!policy) return;
      await appendAuditEvent(db, {
        actor: POLICY_FILE_ACTOR,
        action: existing ? 'policy.updated' : 'policy.created',
        subjectType: 'policy',
        subjectId: policy.id,
        details: { name: policy.name, file, ...(existing ? { before: existing.spec } : {}), spec: policy.spec },
      });
      (existing ? updated : created).push(policy.name);
    });
  }
  return { created, updated };
}

/** Brings every stored policy's schedule up to date (a start after a commit that failed after Temporal changed it). */
export async function reconcilePolicySchedules(pool: Pool, temporal: PolicyTemporal): Promise<number> {
  const policies = await listPolicies(pool);
  for (const policy of policies) await upsertPolicySchedule(temporal.client, policy, temporal.taskQueue);
  return policies.length;
}

/**
 * At the start of a process that serves the API: loads AGENT_POLICY_FILE when set (a bad file stops the start,
 * naming the line and field), then brings every policy's schedule up to date.
 */
export async function prepareAgentPolicies(pool: Pool, temporal: PolicyTemporal, policyFile: string | undefined, logger: Logger): Promise<void> {
  if (policyFile !== undefined) {
    let specs: PolicySpec[];
    try {
      specs = await readPolicyFile(policyFile);
    } catch (error) {
      if (error instanceof PolicyFileError) throw new ConfigError('AGENT_POLICY_FILE', error.message);
      throw error;
    }
    const applied = await applyPolicyFile(pool, temporal, policyFile, specs);
    logger.info({ file: policyFile, ...applied }, `agent policies loaded: ${specs.length} in the file, ${applied.created.length} created, ${applied.updated.length} updated`);
  }
  await reconcilePolicySchedules(pool, temporal).catch((error: unknown) =>
    logger.warn({ err: error }, 'could not bring the agent policies\' schedules up to date; they are repaired at the next start'),
  );
}
