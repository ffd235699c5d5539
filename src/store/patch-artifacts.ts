/**
 * What lifecycle activities read and leave besides the read-model rows: a patch's diff by its hash (inputs carry
 * the hash, not the text) and revert markers (a revert that found nothing to undo, which a later deploy respects).
 */
import type { Pool } from 'pg';

/** The diff of a patch by its SHA-256 (activities receive the hash, not the text). */
export async function loadDiff(pool: Pool, sha256: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ diff: string }>('SELECT diff FROM patches WHERE diff_sha256 = $1 LIMIT 1', [sha256]);
  return rows[0]?.diff;
}

/** Marks that a revert of the patch on the target found nothing to undo; later deploys of it refuse to push. */
export async function saveRevertMarker(pool: Pool, patchId: string, targetId: string): Promise<void> {
  await pool.query('INSERT INTO revert_markers (patch_id, target_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [patchId, targetId]);
}

export async function hasRevertMarker(pool: Pool, patchId: string, targetId: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM revert_markers WHERE patch_id = $1 AND target_id = $2', [patchId, targetId]);
  return (rowCount ?? 0) > 0;
}
