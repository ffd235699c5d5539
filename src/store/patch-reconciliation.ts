/**
 * What the reconciler reads and writes: patches whose read model has not reached a terminal status (their
 * lifecycle run may have ended without saying so), and a status written after the fact, numbered after every
 * transition the run wrote so that it is the newest.
 */
import type { Pool } from 'pg';
import { type PatchStatus, type Target, TERMINAL_PATCH_STATUSES } from '../domain/types';
import { appendAuditEvent } from './audit';
import { withTransaction } from './db';
import { getTargets } from './targets';

export interface OpenPatch {
  id: string;
  workflowId: string;
  status: PatchStatus;
  /** Seconds since the read model last changed. */
  idleSeconds: number;
}

/** Patches not in a terminal status, least recently changed first. */
export async function openPatches(pool: Pool, limit: number): Promise<OpenPatch[]> {
  const { rows } = await pool.query<{ id: string; workflow_id: string; status: PatchStatus; idle_seconds: number }>(
    `SELECT id, workflow_id, status, EXTRACT(EPOCH FROM now() - updated_at)::float8 AS idle_seconds FROM patches
      WHERE status <> ALL ($1::text[]) ORDER BY updated_at LIMIT $2`,
    [TERMINAL_PATCH_STATUSES, limit],
  );
  return rows.map((row) => ({ id: row.id, workflowId: row.workflow_id, status: row.status, idleSeconds: row.idle_seconds }));
}

export interface ReconciledStatus {
  patchId: string;
  to: PatchStatus;
  reason: string;
  /** Who decided: the audit actor. */
  actor: string;
}

/**
 * Writes `to` as the patch's status, numbered after its newest transition, with its audit event; once per
 * (patch, status): a retried write changes nothing. Returns false when the patch already had that status.
 */
export async function writeReconciledStatus(pool: Pool, input: ReconciledStatus): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    // The row lock serializes this with the lifecycle's own transition writes.
    const { rows } = await client.query<{ status: PatchStatus; status_seq: number }>('SELECT status, status_seq FROM patches WHERE id = $1 FOR UPDATE', [input.patchId]);
    const current = rows[0];
    if (!current || current.status === input.to) return false;
    const newest = await client.query<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM patch_transitions WHERE patch_id = $1', [input.patchId]);
    const seq = Math.max(current.status_seq, newest.rows[0]?.seq ?? 0) + 1;
    const at = new Date().toISOString();
    await client.query('INSERT INTO patch_transitions (patch_id, seq, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5, $6)', [
      input.patchId, seq, current.status, input.to, input.reason, at,
    ]);
    await client.query('UPDATE patches SET status = $2, status_reason = $3, status_seq = $4, updated_at = $5 WHERE id = $1', [input.patchId, input.to, input.reason, seq, at]);
    await appendAuditEvent(client, {
      actor: input.actor,
      action: `patch.${input.to}`,
      subjectType: 'patch',
      subjectId: input.patchId,
      details: { seq, from: current.status, to: input.to, reason: input.reason },
      idempotencyKey: `patch:${input.patchId}:reconciled:${input.to}`,
    });
    return true;
  });
}

export interface PatchTarget {
  target: Target;
  /** The wave its deployment was recorded in, or 1 when none was. */
  wave: number;
}

/** The patch's targets as registered now, with the wave of each one's recorded deployment. */
export async function patchTargets(pool: Pool, patchId: string): Promise<PatchTarget[]> {
  const { rows } = await pool.query<{ target_ids: string[] }>('SELECT target_ids FROM patches WHERE id = $1', [patchId]);
  const ids = rows[0]?.target_ids ?? [];
  const waves = await pool.query<{ target_id: string; wave: number }>('SELECT target_id, wave FROM deployments WHERE patch_id = $1', [patchId]);
  const waveOf = new Map(waves.rows.map((row) => [row.target_id, row.wave]));
  return (await getTargets(pool, ids)).map((target) => ({ target, wave: waveOf.get(target.id) ?? 1 }));
}
