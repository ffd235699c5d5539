/**
 * Counts over the read model for the fleet report: open findings, patches, rollouts and rollbacks. Reads only;
 * each function answers one question with one query.
 */
import type { Pool } from 'pg';
import type { Category, DeploymentStatus, PatchStatus, Severity } from '../domain/types';

export interface FindingCount {
  targetId: string;
  category: Category;
  severity: Severity;
  count: number;
}

/** The findings of each target's latest succeeded analysis (what is open now), counted by category and severity. */
export async function openFindingCounts(pool: Pool): Promise<FindingCount[]> {
  const { rows } = await pool.query<{ target_id: string; category: Category; severity: Severity; count: number }>(
    `SELECT l.target_id, f.category, f.severity, count(*)::int AS count
       FROM targets t
       JOIN LATERAL (SELECT id, target_id FROM analyses WHERE target_id = t.id AND status = 'succeeded'
                      ORDER BY completed_at DESC LIMIT 1) l ON true
       JOIN findings f ON f.analysis_id = l.id
      GROUP BY l.target_id, f.category, f.severity`,
  );
  return rows.map((row) => ({ targetId: row.target_id, category: row.category, severity: row.severity, count: row.count }));
}

/** How many patches are in each status (statuses without patches are absent). */
export async function patchCountsByStatus(pool: Pool): Promise<Map<PatchStatus, number>> {
  const { rows } = await pool.query<{ status: PatchStatus; count: number }>('SELECT status, count(*)::int AS count FROM patches GROUP BY status');
  return new Map(rows.map((row) => [row.status, row.count]));
}

/** How the rollouts that deployed something and have ended ended: patch status -> patches. */
export async function endedRolloutCounts(pool: Pool): Promise<Map<PatchStatus, number>> {
  const { rows } = await pool.query<{ status: PatchStatus; count: number }>(
    `SELECT p.status, count(*)::int AS count FROM patches p
      WHERE p.status IN ('deployed', 'rolled_back', 'failed', 'cancelled')
        AND EXISTS (SELECT 1 FROM deployments d WHERE d.patch_id = p.id AND d.deployed_at IS NOT NULL)
      GROUP BY p.status`,
  );
  return new Map(rows.map((row) => [row.status, row.count]));
}

export interface DeploymentCount {
  targetId: string;
  status: DeploymentStatus;
  count: number;
}

/** Deployments (one per patch and target) by target and status. */
export async function deploymentCounts(pool: Pool): Promise<DeploymentCount[]> {
  const { rows } = await pool.query<{ target_id: string; status: DeploymentStatus; count: number }>(
    'SELECT target_id, status, count(*)::int AS count FROM deployments GROUP BY target_id, status',
  );
  return rows.map((row) => ({ targetId: row.target_id, status: row.status, count: row.count }));
}

export interface RollbackTimes {
  /** Patches rolled back. */
  rolledBack: number;
  /** Of those, the ones with a failing health sample before their rollback started. */
  measured: number;
  /** Mean seconds from such a patch's first failing sample to its completed rollback; null when none was measured. */
  meanSecondsToRollback: number | null;
}

/**
 * How long rollbacks take from the first failing health sample (failed or not taken) before the rollback started
 * to the patch's `rolled_back` transition. A rollback a Guardian asked for without a failing sample is not measured.
 */
export async function rollbackTimes(pool: Pool): Promise<RollbackTimes> {
  const { rows } = await pool.query<{ rolled_back: number; measured: number; mean_seconds: number | null }>(
    `SELECT count(*)::int AS rolled_back, count(first_failure)::int AS measured,
            avg(extract(epoch FROM rolled_back_at - first_failure))::float8 AS mean_seconds
       FROM (
         SELECT p.id,
                (SELECT max(at) FROM patch_transitions WHERE patch_id = p.id AND to_status = 'rolled_back') AS rolled_back_at,
                (SELECT min(h.sampled_at) FROM health_samples h
                  WHERE h.patch_id = p.id AND NOT h.ok
                    AND h.sampled_at <= (SELECT min(at) FROM patch_transitions WHERE patch_id = p.id AND to_status = 'rolling_back')) AS first_failure
           FROM patches p WHERE p.status = 'rolled_back') rolled_back`,
  );
  const row = rows[0];
  return { rolledBack: row?.rolled_back ?? 0, measured: row?.measured ?? 0, meanSecondsToRollback: row?.mean_seconds ?? null };
}
