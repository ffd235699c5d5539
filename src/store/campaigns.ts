/**
 * What campaigns are made of in the read model: the `per-rule` agent patches, with their status, deployments and
 * the rule's findings in each selected target's latest analysis after its deployment.
 */
import type { Pool } from 'pg';
import type { CampaignFacts } from '../agent/campaigns';
import type { DeploymentStatus, PatchStatus } from '../domain/types';

interface CampaignRow {
  patch_id: string;
  policy_id: string;
  policy_name: string;
  rule_id: string;
  selected_target_ids: string[];
  findings_before: Record<string, number>;
  title: string;
  status: PatchStatus;
  target_ids: string[];
  created_at: Date;
}

const CAMPAIGN_SELECT = `SELECT a.patch_id, a.policy_id, a.policy_name, a.rule_id, a.selected_target_ids, a.findings_before,
    p.title, p.status, p.target_ids, p.created_at
  FROM agent_patches a JOIN patches p ON p.id = a.patch_id WHERE a.grouping = 'per-rule'`;

async function factsOf(pool: Pool, row: CampaignRow): Promise<CampaignFacts> {
  const { rows } = await pool.query<{
    id: string;
    name: string;
    status: DeploymentStatus | null;
    deployed_commit: string | null;
    deployed_at: Date | null;
    findings_after: string | null;
  }>(
    `SELECT t.id, t.name, d.status, d.deployed_commit, d.deployed_at,
       CASE WHEN latest.id IS NULL THEN NULL ELSE (SELECT count(*) FROM findings f WHERE f.analysis_id = latest.id AND f.rule_id = $3) END AS findings_after
       FROM unnest($1::uuid[]) WITH ORDINALITY AS s (target_id, position)
       JOIN targets t ON t.id = s.target_id
       LEFT JOIN deployments d ON d.patch_id = $2 AND d.target_id = t.id
       LEFT JOIN LATERAL (
         SELECT a.id FROM analyses a
          WHERE a.target_id = t.id AND a.status = 'succeeded' AND d.deployed_at IS NOT NULL AND a.completed_at > d.deployed_at
          ORDER BY a.completed_at DESC LIMIT 1) latest ON true
      ORDER BY s.position`,
    [row.selected_target_ids, row.patch_id, row.rule_id],
  );
  return {
    patchId: row.patch_id,
    title: row.title,
    ruleId: row.rule_id,
    policyId: row.policy_id,
    policyName: row.policy_name,
    patchStatus: row.status,
    createdAt: row.created_at.toISOString(),
    patchTargetIds: row.target_ids,
    selected: rows.map((target) => ({
      targetId: target.id,
      name: target.name,
      findingsBefore: row.findings_before[target.id] ?? null,
      deployment: target.status === null ? null : { status: target.status, deployedCommit: target.deployed_commit, deployedAt: target.deployed_at?.toISOString() ?? null },
      findingsAfter: target.findings_after === null ? null : Number(target.findings_after),
    })),
  };
}

/** Newest first. */
export async function listCampaignFacts(pool: Pool, limit: number): Promise<CampaignFacts[]> {
  const { rows } = await pool.query<CampaignRow>(`${CAMPAIGN_SELECT} ORDER BY p.created_at DESC, a.patch_id LIMIT $1`, [limit]);
  return Promise.all(rows.map((row) => factsOf(pool, row)));
}

export async function getCampaignFacts(pool: Pool, patchId: string): Promise<CampaignFacts | undefined> {
  const { rows } = await pool.query<CampaignRow>(`${CAMPAIGN_SELECT} AND a.patch_id = $1`, [patchId]);
  return rows[0] ? factsOf(pool, rows[0]) : undefined;
}
