/**
 * What the agent keeps in the read model: its cycles, the patches it proposed (keyed for idempotent creation),
 * the fixes Guardians rejected, and what planning needs to know about open patches. Campaign reads are in
 * campaigns.ts.
 */
import type { Pool } from 'pg';
import type { RememberedFix, TargetFinding } from '../agent/planner';
import { TERMINAL_PATCH_STATUSES } from '../domain/types';
import type { PatchLifecycleInput } from '../workflows/lifecycle-run';
import type { Queryable } from './db';

/** A cycle's outcome, as its workflow returns it and GET /policies/:id/cycles shows it. */
export interface AgentCycleCounts {
  targetsSelected: number;
  targetsScanned: number;
  targetsFailed: number;
  findingsEligible: number;
  findingsProposed: number;
  patchesProposed: number;
  skipped: { covered: number; rejected: number; overLimit: number; refused: number };
}

export interface AgentCycle {
  id: string;
  policyId: string;
  runId: string;
  status: 'running' | 'completed';
  counts: AgentCycleCounts | null;
  patchIds: string[];
  startedAt: string;
  finishedAt: string | null;
}

/** Records that a cycle runs (a retried activity keeps the first row). */
export async function recordCycleStart(pool: Pool, input: { id: string; policyId: string; runId: string }): Promise<void> {
  await pool.query(`INSERT INTO agent_cycles (id, policy_id, run_id, status) VALUES ($1, $2, $3, 'running') ON CONFLICT (id) DO NOTHING`, [input.id, input.policyId, input.runId]);
}

export async function recordCycleEnd(pool: Pool, input: { id: string; counts: AgentCycleCounts; patchIds: string[] }): Promise<void> {
  await pool.query(`UPDATE agent_cycles SET status = 'completed', counts = $2, patch_ids = $3, finished_at = COALESCE(finished_at, now()) WHERE id = $1`, [
    input.id,
    JSON.stringify(input.counts),
    input.patchIds,
  ]);
}

export async function listCycles(pool: Pool, policyId: string, limit: number): Promise<AgentCycle[]> {
  const { rows } = await pool.query<{
    id: string;
    policy_id: string;
    run_id: string;
    status: AgentCycle['status'];
    counts: AgentCycleCounts | null;
    patch_ids: string[];
    started_at: Date;
    finished_at: Date | null;
  }>('SELECT * FROM agent_cycles WHERE policy_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2', [policyId, limit]);
  return rows.map((row) => ({
    id: row.id,
    policyId: row.policy_id,
    runId: row.run_id,
    status: row.status,
    counts: row.counts,
    patchIds: row.patch_ids,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  }));
}

/** The policy's agent patches that have not reached a terminal status. */
export async function openAgentPatchCount(pool: Pool, policyId: string): Promise<number> {
  const { rows } = await pool.query<{ open: string }>(
    'SELECT count(*) AS open FROM agent_patches a JOIN patches p ON p.id = a.patch_id WHERE a.policy_id = $1 AND NOT (p.status = ANY ($2))',
    [policyId, TERMINAL_PATCH_STATUSES],
  );
  return Number(rows[0]?.open ?? 0);
}

/** Findings on these targets that a non-terminal patch (anyone's) resolves, by fingerprint. */
export async function coveredFindings(pool: Pool, targetIds: readonly string[]): Promise<TargetFinding[]> {
  const { rows } = await pool.query<{ target_id: string; fingerprint: string }>(
    `SELECT DISTINCT d.target_id, f ->> 'fingerprint' AS fingerprint
       FROM patch_target_diffs d JOIN patches p ON p.id = d.patch_id CROSS JOIN jsonb_array_elements(d.findings) f
      WHERE d.target_id = ANY ($1::uuid[]) AND NOT (p.status = ANY ($2))`,
    [targetIds, TERMINAL_PATCH_STATUSES],
  );
  return rows.map((row) => ({ targetId: row.target_id, fingerprint: row.fingerprint }));
}

/** The rejected fixes remembered for these targets. */
export async function rejectedFixes(pool: Pool, targetIds: readonly string[]): Promise<RememberedFix[]> {
  const { rows } = await pool.query<{ target_id: string; fingerprint: string; rule_id: string; fix: string }>(
    'SELECT target_id, fingerprint, rule_id, fix FROM agent_rejections WHERE target_id = ANY ($1::uuid[])',
    [targetIds],
  );
  return rows.map((row) => ({ targetId: row.target_id, fingerprint: row.fingerprint, ruleId: row.rule_id, fix: row.fix }));
}

/**
 * Remembers every fix of a rejected agent patch (by target, fingerprint, rule and fix title), so the agent does
 * not propose it again; patches people wrote are not remembered.
 */
export async function rememberRejectedFixes(db: Queryable, input: { patchId: string; guardian: string; reason: string | null; at: string }): Promise<void> {
  await db.query(
    `INSERT INTO agent_rejections (target_id, fingerprint, rule_id, fix, patch_id, rejected_by, reason, rejected_at)
     SELECT d.target_id, f ->> 'fingerprint', f ->> 'ruleId', f ->> 'fix', d.patch_id, $2, $3, $4
       FROM patch_target_diffs d CROSS JOIN jsonb_array_elements(d.findings) f
      WHERE d.patch_id = $1 AND EXISTS (SELECT 1 FROM agent_patches a WHERE a.patch_id = $1)
     ON CONFLICT DO NOTHING`,
    [input.patchId, input.guardian, input.reason, input.at],
  );
}

export interface AgentPatchRecord {
  patchId: string;
  policyId: string;
  policyName: string;
  cycleId: string;
  idempotencyKey: string;
  grouping: 'per-rule' | 'per-target';
  ruleId: string | null;
  selectedTargetIds: string[];
  findingsBefore: Record<string, number>;
  lifecycleInput: PatchLifecycleInput;
}

/** The agent patch created under this idempotency key, if any. */
export async function findAgentPatch(db: Queryable, idempotencyKey: string): Promise<AgentPatchRecord | undefined> {
  const { rows } = await db.query<{
    patch_id: string;
    policy_id: string;
    policy_name: string;
    cycle_id: string;
    idempotency_key: string;
    grouping: AgentPatchRecord['grouping'];
    rule_id: string | null;
    selected_target_ids: string[];
    findings_before: Record<string, number>;
    lifecycle_input: PatchLifecycleInput;
  }>('SELECT * FROM agent_patches WHERE idempotency_key = $1', [idempotencyKey]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    patchId: row.patch_id,
    policyId: row.policy_id,
    policyName: row.policy_name,
    cycleId: row.cycle_id,
    idempotencyKey: row.idempotency_key,
    grouping: row.grouping,
    ruleId: row.rule_id,
    selectedTargetIds: row.selected_target_ids,
    findingsBefore: row.findings_before,
    lifecycleInput: row.lifecycle_input,
  };
}

/** Links a new patch to the agent (in the transaction that creates the patch); a duplicate key fails the insert. */
export async function insertAgentPatch(db: Queryable, record: AgentPatchRecord): Promise<void> {
  await db.query(
    `INSERT INTO agent_patches (patch_id, policy_id, policy_name, cycle_id, idempotency_key, grouping, rule_id, selected_target_ids,
       findings_before, lifecycle_input) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [record.patchId, record.policyId, record.policyName, record.cycleId, record.idempotencyKey, record.grouping, record.ruleId,
      record.selectedTargetIds, JSON.stringify(record.findingsBefore), JSON.stringify(record.lifecycleInput)],
  );
}
