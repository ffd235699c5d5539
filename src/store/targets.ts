import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Queryable } from './db';
import { DEFAULT_SANDBOX_SETTINGS, type Delivery, type ForgeLink, type SandboxSettings, type Target } from '../domain/types';
import type { HealthCheck } from '../health/schemas';

/** A target to register; without sandbox settings its commands get no network and no variables. */
export type NewTarget = Omit<Target, 'id' | 'createdAt' | 'sandbox'> & { sandbox?: SandboxSettings };

export class DuplicateTargetError extends Error {
  constructor(readonly targetName: string) {
    super(`a target named ${targetName} already exists`);
    this.name = 'DuplicateTargetError';
  }
}

interface TargetRow {
  id: string;
  name: string;
  repo_url: string;
  branch: string;
  health_checks: HealthCheck[];
  verify_command: string[] | null;
  sandbox: SandboxSettings | null;
  workflow_run: boolean;
  workflow_run_event: string;
  workflow_run_called_workflows: boolean;
  labels: Record<string, string>;
  forge: ForgeLink | null;
  delivery: Delivery;
  created_by: string;
  created_at: Date;
}

function fromRow(row: TargetRow): Target {
  return {
    id: row.id,
    name: row.name,
    repoUrl: row.repo_url,
    branch: row.branch,
    healthChecks: row.health_checks,
    verifyCommand: row.verify_command,
    sandbox: { ...DEFAULT_SANDBOX_SETTINGS, ...row.sandbox },
    workflowRun: row.workflow_run,
    workflowRunEvent: row.workflow_run_event,
    workflowRunCalledWorkflows: row.workflow_run_called_workflows,
    labels: row.labels,
    ...(row.forge ? { forge: row.forge } : {}),
    delivery: row.delivery,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

export async function createTarget(pool: Queryable, input: NewTarget): Promise<Target> {
  try {
    const { rows } = await pool.query<TargetRow>(
      `INSERT INTO targets (id, name, repo_url, branch, health_checks, verify_command, sandbox, workflow_run, workflow_run_event,
         workflow_run_called_workflows, labels, created_by, forge, delivery)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *`,
      [randomUUID(), input.name, input.repoUrl, input.branch, JSON.stringify(input.healthChecks),
        input.verifyCommand ? JSON.stringify(input.verifyCommand) : null, JSON.stringify(input.sandbox ?? DEFAULT_SANDBOX_SETTINGS),
        input.workflowRun ?? true, input.workflowRunEvent ?? 'push', input.workflowRunCalledWorkflows ?? true, JSON.stringify(input.labels ?? {}), input.createdBy,
        input.forge ? JSON.stringify(input.forge) : null, JSON.stringify(input.delivery ?? { mode: 'push' })],
    );
    return fromRow(rows[0] as TargetRow);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new DuplicateTargetError(input.name);
    throw error;
  }
}

export async function getTarget(pool: Pool, id: string): Promise<Target | undefined> {
  const { rows } = await pool.query<TargetRow>('SELECT * FROM targets WHERE id = $1', [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** The targets with these ids, in the order asked; missing ids are left out. */
export async function getTargets(pool: Pool, ids: readonly string[]): Promise<Target[]> {
  const { rows } = await pool.query<TargetRow>('SELECT * FROM targets WHERE id = ANY($1::uuid[])', [ids]);
  const byId = new Map(rows.map((row) => [row.id, fromRow(row)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export async function listTargets(pool: Pool, limit = 500): Promise<Target[]> {
  const { rows } = await pool.query<TargetRow>('SELECT * FROM targets ORDER BY name LIMIT $1', [limit]);
  return rows.map(fromRow);
}

/** What a target selector looks at, of at most `limit` targets by name: lighter than whole targets for a large fleet. */
export async function listTargetNamesAndLabels(pool: Pool, limit: number): Promise<Array<Pick<Target, 'id' | 'name' | 'labels'>>> {
  const { rows } = await pool.query<Pick<TargetRow, 'id' | 'name' | 'labels'>>('SELECT id, name, labels FROM targets ORDER BY name LIMIT $1', [limit]);
  return rows;
}

/** Replaces a target's labels; the target before and after, or undefined when there is no such target. */
export async function setTargetLabels(db: Queryable, id: string, labels: Record<string, string>): Promise<{ before: Target; after: Target } | undefined> {
  const { rows } = await db.query<TargetRow & { previous_labels: Record<string, string> }>(
    `UPDATE targets t SET labels = $2, updated_at = now() FROM (SELECT id, labels AS previous_labels FROM targets WHERE id = $1 FOR UPDATE) p
      WHERE t.id = p.id RETURNING t.*, p.previous_labels`,
    [id, JSON.stringify(labels)],
  );
  const row = rows[0];
  if (!row) return undefined;
  const after = fromRow(row);
  return { before: { ...after, labels: row.previous_labels }, after };
}
