/**
 * The per-target diffs of patches generated from analysis findings: each target's own diff, the commit it was
 * made at and the findings it resolves. The lifecycle's activities test and deploy a target's own diff when the
 * patch has one; a target whose branch moved gets its diff made again at the new tip (regeneration).
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { FindingSelection, ResolvedFinding } from '../domain/types';
import type { Queryable } from './db';

/** One target's diff as a generated patch is created with it. */
export interface NewTargetDiff {
  targetId: string;
  analysisId: string;
  /** The commit the analysis saw, where the diff was made. */
  analysisCommit: string;
  diff: string;
  selection: FindingSelection;
  findings: ResolvedFinding[];
}

export interface TargetDiff extends NewTargetDiff {
  targetName: string;
  diffSha256: string;
  /** Where the current diff was made: the analysis's commit, or the newer tip it was regenerated at. */
  baseCommit: string;
  /** The commit the diff was made at before its latest regeneration; null when never regenerated. */
  regeneratedFrom: string | null;
  regeneratedAt: string | null;
}

interface TargetDiffRow {
  target_id: string;
  target_name: string;
  analysis_id: string;
  analysis_commit: string;
  base_commit: string;
  diff: string;
  diff_sha256: string;
  selection: FindingSelection;
  findings: ResolvedFinding[];
  regenerated_from: string | null;
  regenerated_at: Date | null;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function fromRow(row: TargetDiffRow): TargetDiff {
  return {
    targetId: row.target_id,
    targetName: row.target_name,
    analysisId: row.analysis_id,
    analysisCommit: row.analysis_commit,
    baseCommit: row.base_commit,
    diff: row.diff,
    diffSha256: row.diff_sha256,
    selection: row.selection,
    findings: row.findings,
    regeneratedFrom: row.regenerated_from,
    regeneratedAt: row.regenerated_at?.toISOString() ?? null,
  };
}

/** Stores a new patch's per-target diffs (in the transaction that creates the patch). */
export async function saveTargetDiffs(db: Queryable, patchId: string, diffs: readonly NewTargetDiff[]): Promise<void> {
  for (const entry of diffs) {
    await db.query(
      `INSERT INTO patch_target_diffs (patch_id, target_id, analysis_id, analysis_commit, base_commit, diff, diff_sha256, selection, findings)
       VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)`,
      [patchId, entry.targetId, entry.analysisId, entry.analysisCommit, entry.diff, sha256(entry.diff), JSON.stringify(entry.selection), JSON.stringify(entry.findings)],
    );
  }
}

const SELECT_DIFFS = `SELECT d.*, t.name AS target_name FROM patch_target_diffs d JOIN targets t ON t.id = d.target_id`;

/** A target's own diff in a patch, or undefined when the patch has one diff for every target. */
export async function getTargetDiff(pool: Pool, patchId: string, targetId: string): Promise<TargetDiff | undefined> {
  const { rows } = await pool.query<TargetDiffRow>(`${SELECT_DIFFS} WHERE d.patch_id = $1 AND d.target_id = $2`, [patchId, targetId]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Every per-target diff of a patch, in the order of its targets; empty for a patch with one diff. */
export async function listTargetDiffs(pool: Pool, patchId: string): Promise<TargetDiff[]> {
  const { rows } = await pool.query<TargetDiffRow>(
    `${SELECT_DIFFS} JOIN patches p ON p.id = d.patch_id WHERE d.patch_id = $1 ORDER BY array_position(p.target_ids, d.target_id)`,
    [patchId],
  );
  return rows.map(fromRow);
}

export interface RegeneratedDiff {
  patchId: string;
  targetId: string;
  /** The commit the replaced diff was made at; a row that moved on meanwhile (a retried attempt) stays. */
  from: string;
  to: string;
  diff: string;
  findings: ResolvedFinding[];
}

/** Replaces a target's diff by one made at a newer tip, keeping where it was made before. */
export async function saveRegeneratedDiff(pool: Pool, input: RegeneratedDiff): Promise<void> {
  await pool.query(
    `UPDATE patch_target_diffs SET base_commit = $4, diff = $5, diff_sha256 = $6, findings = $7, regenerated_from = $3, regenerated_at = now()
      WHERE patch_id = $1 AND target_id = $2 AND base_commit = $3`,
    [input.patchId, input.targetId, input.from, input.to, input.diff, sha256(input.diff), JSON.stringify(input.findings)],
  );
}
