/**
 * Patches and their lifecycle in the read model: what the API lists and shows, written by the lifecycle's
 * activities. Every write has a natural key (patch + seq, stage + target, guardian, target, sample key), so a
 * retried activity overwrites or skips its own earlier attempt instead of adding a row.
 */
import { createHash } from 'node:crypto';
import { Pool } from 'pg';
import { insertRows, type Queryable, withTransaction } from './db';
import {
  type ApprovalRecord,
  type ApprovalSpec,
  type DeploymentStatus,
  type PatchSpec,
  type PatchStatus,
  type PatchType,
  type PullRequestLink,
  type RolloutSpec,
  type StageResult,
  type Target,
  TEST_STAGES,
  type TargetDeployment,
  type TestStage,
} from '../domain/types';
import type { HealthCheckType, HealthSample } from '../health/types';

/** Health samples per target that getPatch returns. */
export const LAST_SAMPLES_PER_TARGET = 5;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A patch as lists show it. */
export interface PatchSummary {
  id: string;
  workflowId: string;
  title: string;
  type: PatchType;
  description: string | null;
  status: PatchStatus;
  statusReason: string | null;
  author: string;
  targetIds: string[];
  /** SHA-256 of the diff, hex: identifies the exact change that was tested and approved. */
  diffSha256: string;
  rollout: RolloutSpec;
  approval: ApprovalSpec;
  createdAt: string;
  updatedAt: string;
}

/** One stage on one target, as stored. */
export interface TestRun extends StageResult {
  /** Stage-specific facts (tested commit, counts), for people and tools. */
  details: Record<string, unknown>;
  startedAt: string;
  finishedAt: string;
}

export interface PatchDeployment extends TargetDeployment {
  /** The pull request that reverted the patch on a target delivered by pull request. */
  revertPullRequest?: PullRequestLink;
  /** What the pull request's checks said before the merge (checks already failing before the patch, ...). */
  note?: string;
  deployedAt: string | null;
  revertedAt: string | null;
  updatedAt: string;
}

export interface PatchTransition {
  seq: number;
  from: PatchStatus | null;
  to: PatchStatus;
  reason: string | null;
  at: string;
}

/** A patch with everything recorded about its lifecycle, as the patch page shows it. */
export interface PatchDetail extends PatchSummary {
  diff: string;
  /** The patch's targets in the order it names them (a deleted target is left out). */
  targets: Array<Pick<Target, 'id' | 'name'>>;
  /** By target (in `targets` order), then stage in test order. */
  tests: TestRun[];
  /** Oldest first. */
  approvals: ApprovalRecord[];
  /** By wave, then target name; each with its last LAST_SAMPLES_PER_TARGET health samples, newest last. */
  deployments: PatchDeployment[];
  /** In seq order. */
  transitions: PatchTransition[];
}

/**
 * Where a page of the list ends: the last patch's creation time (microseconds since the epoch, as PostgreSQL keeps
 * it; a JavaScript Date would round it to milliseconds and skip or repeat patches) and id.
 */
export interface PatchListPosition {
  createdAtMicros: string;
  id: string;
}

export interface PatchListQuery {
  status?: PatchStatus;
  /** Only patches that include this target. */
  targetId?: string;
  limit: number;
  /** Only patches listed after this position (older ones). */
  after?: PatchListPosition;
}

/**
 * A patch as lists show it: what tells patches apart and where they stand. The description (up to 10,000
 * characters), the target ids (thousands on a fleet-wide patch), the rollout and the approval settings are shown by
 * getPatch, so that a page's size depends on its length alone.
 */
export interface PatchListItem {
  id: string;
  workflowId: string;
  title: string;
  type: PatchType;
  status: PatchStatus;
  statusReason: string | null;
  author: string;
  targetCount: number;
  diffSha256: string;
  createdAt: string;
  updatedAt: string;
}

export interface PatchListPage {
  items: PatchListItem[];
  /** Where the next page starts; null on the last page. */
  next: PatchListPosition | null;
}

interface PatchRow {
  id: string;
  workflow_id: string;
  title: string;
  type: PatchType;
  description: string | null;
  diff: string;
  diff_sha256: string;
  status: PatchStatus;
  status_reason: string | null;
  author: string;
  target_ids: string[];
  rollout: RolloutSpec;
  approval: ApprovalSpec;
  created_at: Date;
  updated_at: Date;
}

const SUMMARY_COLUMNS =
  'id, workflow_id, title, type, description, diff_sha256, status, status_reason, author, target_ids, rollout, approval, created_at, updated_at';

function summaryFromRow(row: Omit<PatchRow, 'diff'>): PatchSummary {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    title: row.title,
    type: row.type,
    description: row.description,
    status: row.status,
    statusReason: row.status_reason,
    author: row.author,
    targetIds: row.target_ids,
    diffSha256: row.diff_sha256,
    rollout: row.rollout,
    approval: row.approval,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Stores a new patch in status `pending`; the targets themselves stay in the workflow's snapshot. */
export async function createPatch(pool: Queryable, input: PatchSpec & { workflowId: string }): Promise<PatchSummary> {
  const { rows } = await pool.query<PatchRow>(
    `INSERT INTO patches (id, workflow_id, title, type, description, diff, diff_sha256, status, author, target_ids, rollout, approval)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11) RETURNING ${SUMMARY_COLUMNS}`,
    [input.id, input.workflowId, input.title, input.type, input.description, input.diff,
      createHash('sha256').update(input.diff).digest('hex'), input.author, input.targets.map((target) => target.id),
      JSON.stringify(input.rollout), JSON.stringify(input.approval)],
  );
  return summaryFromRow(rows[0] as PatchRow);
}

interface PatchListRow {
  id: string;
  workflow_id: string;
  title: string;
  type: PatchType;
  status: PatchStatus;
  status_reason: string | null;
  author: string;
  target_count: number;
  diff_sha256: string;
  created_at: Date;
  created_at_micros: string;
  updated_at: Date;
}

/**
 * Newest first, a page at a time (keyset: each page continues after the last row of the one before, so patches
 * created meanwhile neither shift nor repeat rows). Only the filters given become conditions, so that PostgreSQL
 * can use the index for each: `patches_status_created` for a status, the GIN index on target_ids for a target.
 */
export async function listPatches(pool: Pool, query: PatchListQuery): Promise<PatchListPage> {
  // A malformed id matches no patch (and would make PostgreSQL reject the uuid cast).
  if (query.targetId !== undefined && !UUID.test(query.targetId)) return { items: [], next: null };
  if (query.after !== undefined && (!UUID.test(query.after.id) || !/^\d{1,16}$/.test(query.after.createdAtMicros))) return { items: [], next: null };
  const conditions: string[] = [];
  const values: unknown[] = [];
  const parameter = (value: unknown): string => `$${values.push(value)}`;
  if (query.status !== undefined) conditions.push(`status = ${parameter(query.status)}`);
  if (query.targetId !== undefined) conditions.push(`target_ids @> ARRAY[${parameter(query.targetId)}::uuid]`);
  if (query.after !== undefined) {
    conditions.push(
      `(created_at, id) < (timestamptz 'epoch' + ${parameter(query.after.createdAtMicros)}::bigint * interval '1 microsecond', ${parameter(query.after.id)}::uuid)`,
    );
  }
  // One row more than asked tells whether another page follows.
  const { rows } = await pool.query<PatchListRow>(
    `SELECT id, workflow_id, title, type, status, status_reason, author, cardinality(target_ids) AS target_count, diff_sha256,
            created_at, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_at_micros, updated_at
       FROM patches ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ${parameter(query.limit + 1)}`,
    values,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      id: row.id,
      workflowId: row.workflow_id,
      title: row.title,
      type: row.type,
      status: row.status,
      statusReason: row.status_reason,
      author: row.author,
      targetCount: row.target_count,
      diffSha256: row.diff_sha256,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    })),
    next: rows.length > query.limit && last ? { createdAtMicros: last.created_at_micros, id: last.id } : null,
  };
}

interface TestRunRow {
  stage: TestStage;
  target_id: string;
  status: 'passed' | 'failed';
  summary: string;
  log: string;
  details: Record<string, unknown>;
  started_at: Date;
  finished_at: Date;
}

interface DeploymentRow {
  target_id: string;
  target_name: string;
  wave: number;
  status: DeploymentStatus;
  deployed_commit: string | null;
  previous_commit: string | null;
  revert_commit: string | null;
  error: string | null;
  pull_request: PullRequestLink | null;
  revert_pull_request: PullRequestLink | null;
  note: string | null;
  deployed_at: Date | null;
  reverted_at: Date | null;
  updated_at: Date;
}

interface SampleRow {
  target_id: string;
  ok: boolean;
  check_type: HealthCheckType;
  check_label: string;
  detail: string;
  latency_ms: number | null;
  status_code: number | null;
  exit_code: number | null;
  sampled_at: Date;
  error: boolean;
}

interface TransitionRow {
  seq: number;
  from_status: PatchStatus | null;
  to_status: PatchStatus;
  reason: string | null;
  at: Date;
}

function sampleFromRow(row: SampleRow): HealthSample {
  return {
    ok: row.ok,
    checkType: row.check_type,
    check: row.check_label,
    detail: row.detail,
    latencyMs: row.latency_ms ?? 0,
    ...(row.status_code === null ? {} : { status: row.status_code }),
    ...(row.exit_code === null ? {} : { exitCode: row.exit_code }),
    ...(row.error ? { error: true } : {}),
    at: row.sampled_at.toISOString(),
  };
}

/** The patch with its tests, approvals, deployments (with recent health samples) and transitions. */
export async function getPatch(pool: Pool, id: string): Promise<PatchDetail | undefined> {
  if (!UUID.test(id)) return undefined;
  const patch = await pool.query<PatchRow>(`SELECT ${SUMMARY_COLUMNS}, diff FROM patches WHERE id = $1`, [id]);
  const row = patch.rows[0];
  if (!row) return undefined;
  const [targets, tests, approvals, deployments, samples, transitions] = await Promise.all([
    pool.query<{ id: string; name: string }>('SELECT id, name FROM targets WHERE id = ANY ($1::uuid[])', [row.target_ids]),
    pool.query<TestRunRow>('SELECT * FROM test_runs WHERE patch_id = $1', [id]),
    pool.query<Omit<ApprovalRecord, 'at' | 'groups'> & { at: Date; groups: string[] }>('SELECT guardian, decision, comment, at, groups FROM approvals WHERE patch_id = $1 ORDER BY at, guardian', [id]),
    pool.query<DeploymentRow>(
      `SELECT d.*, t.name AS target_name FROM deployments d JOIN targets t ON t.id = d.target_id
        WHERE d.patch_id = $1 ORDER BY d.wave, t.name`,
      [id],
    ),
    // Sample keys are `<wave>:<round>:<index>`: ordered by those numbers, not by the clocks of the workers.
    pool.query<SampleRow>(
      `SELECT * FROM (
         SELECT h.*, row_number() OVER (PARTITION BY target_id ORDER BY string_to_array(sample_key, ':')::int[] DESC) AS recency
           FROM health_samples h WHERE patch_id = $1) s
        WHERE recency <= $2 ORDER BY target_id, recency DESC`,
      [id, LAST_SAMPLES_PER_TARGET],
    ),
    pool.query<TransitionRow>('SELECT seq, from_status, to_status, reason, at FROM patch_transitions WHERE patch_id = $1 ORDER BY seq', [id]),
  ]);
  const names = new Map(targets.rows.map((target) => [target.id, target.name]));
  const targetOrder = row.target_ids.filter((targetId) => names.has(targetId));
  const samplesByTarget = new Map<string, HealthSample[]>();
  for (const sample of samples.rows) {
    const list = samplesByTarget.get(sample.target_id) ?? [];
    list.push(sampleFromRow(sample));
    samplesByTarget.set(sample.target_id, list);
  }
  const testOrder = (run: TestRunRow): number => targetOrder.indexOf(run.target_id) * TEST_STAGES.length + TEST_STAGES.indexOf(run.stage);
  return {
    ...summaryFromRow(row),
    diff: row.diff,
    targets: targetOrder.map((targetId) => ({ id: targetId, name: names.get(targetId) ?? '' })),
    tests: [...tests.rows].sort((a, b) => testOrder(a) - testOrder(b)).map((run) => ({
      stage: run.stage,
      targetId: run.target_id,
      passed: run.status === 'passed',
      summary: run.summary,
      log: run.log,
      details: run.details,
      startedAt: run.started_at.toISOString(),
      finishedAt: run.finished_at.toISOString(),
    })),
    approvals: approvals.rows.map((approval) => ({
      guardian: approval.guardian,
      decision: approval.decision,
      comment: approval.comment,
      at: approval.at.toISOString(),
      ...(approval.groups.length > 0 ? { groups: approval.groups } : {}),
    })),
    deployments: deployments.rows.map((deployment) => ({
      targetId: deployment.target_id,
      targetName: deployment.target_name,
      wave: deployment.wave,
      status: deployment.status,
      deployedCommit: deployment.deployed_commit,
      previousCommit: deployment.previous_commit,
      revertCommit: deployment.revert_commit,
      error: deployment.error,
      ...(deployment.pull_request ? { pullRequest: deployment.pull_request } : {}),
      ...(deployment.revert_pull_request ? { revertPullRequest: deployment.revert_pull_request } : {}),
      ...(deployment.note ? { note: deployment.note } : {}),
      lastSamples: samplesByTarget.get(deployment.target_id) ?? [],
      deployedAt: deployment.deployed_at?.toISOString() ?? null,
      revertedAt: deployment.reverted_at?.toISOString() ?? null,
      updatedAt: deployment.updated_at.toISOString(),
    })),
    transitions: transitions.rows.map((transition) => ({
      seq: transition.seq,
      from: transition.from_status,
      to: transition.to_status,
      reason: transition.reason,
      at: transition.at.toISOString(),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Writes by the lifecycle activities
// ---------------------------------------------------------------------------------------------------------------

export interface TransitionInput extends PatchTransition {
  patchId: string;
}

/**
 * Records a transition and moves the patch's status to it unless a newer transition is already stored: a
 * retried or late write of an older transition keeps its history row but never turns the status back. With a
 * PoolClient it joins the caller's open transaction (e.g. to commit the transition's audit event with it).
 */
export async function recordPatchTransition(db: Queryable, input: TransitionInput): Promise<void> {
  if (db instanceof Pool) return withTransaction(db, (client) => recordPatchTransition(client, input));
  await db.query(
    `INSERT INTO patch_transitions (patch_id, seq, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (patch_id, seq) DO NOTHING`,
    [input.patchId, input.seq, input.from, input.to, input.reason, input.at],
  );
  // The row lock serializes concurrent writers; each re-checks status_seq against the committed row.
  await db.query(
    'UPDATE patches SET status = $2, status_reason = $3, updated_at = $4, status_seq = $5 WHERE id = $1 AND status_seq < $5',
    [input.patchId, input.to, input.reason, input.at, input.seq],
  );
}

export interface TestRunInput extends Omit<TestRun, 'startedAt' | 'finishedAt'> {
  patchId: string;
  startedAt: Date;
  finishedAt: Date;
}

/** Stores stage results in one statement; running a stage again replaces its result. */
export async function saveTestRuns(pool: Pool, inputs: readonly TestRunInput[]): Promise<void> {
  // One row per patch, stage and target (the last given wins): a statement may not update a row twice.
  const rows = [...new Map(inputs.map((input) => [`${input.patchId}\0${input.stage}\0${input.targetId}`, input])).values()];
  await insertRows(
    pool,
    'INSERT INTO test_runs (patch_id, stage, target_id, status, summary, log, details, started_at, finished_at)',
    rows.map((input) => [input.patchId, input.stage, input.targetId, input.passed ? 'passed' : 'failed', input.summary, input.log,
      JSON.stringify(input.details), input.startedAt, input.finishedAt]),
    `ON CONFLICT (patch_id, stage, target_id) DO UPDATE SET status = EXCLUDED.status, summary = EXCLUDED.summary,
       log = EXCLUDED.log, details = EXCLUDED.details, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at`,
  );
}

/** Stores a guardian's decision; a later decision of the same guardian replaces it. */
export async function saveApproval(db: Queryable, patchId: string, approval: ApprovalRecord): Promise<void> {
  await db.query(
    `INSERT INTO approvals (patch_id, guardian, decision, comment, at, groups) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (patch_id, guardian) DO UPDATE SET decision = EXCLUDED.decision, comment = EXCLUDED.comment, at = EXCLUDED.at,
       groups = EXCLUDED.groups`,
    [patchId, approval.guardian, approval.decision, approval.comment, approval.at, approval.groups ?? []],
  );
}

export interface DeploymentInput {
  patchId: string;
  targetId: string;
  wave: number;
  status: DeploymentStatus;
  /** Cleared when not given: each status carries its own error. */
  error?: string | null;
  /** Commits are kept when not given, so a later status does not erase them. */
  deployedCommit?: string;
  previousCommit?: string;
  revertCommit?: string;
  /** Like the commits, kept when not given. */
  pullRequest?: PullRequestLink;
  revertPullRequest?: PullRequestLink;
  note?: string;
  /** The workflow step that wrote it; a lower one than the stored row's is ignored. Older runs write 0. */
  seq?: number;
}

/**
 * Creates or updates a target's deployment row. `deployed_at` and `reverted_at` are set by the first write of
 * status `deployed` and `reverted` and kept afterwards.
 */
/** Stores a deployment's state unless a write of a later step (higher `seq`) is already there. */
export async function saveDeployment(db: Queryable, input: DeploymentInput): Promise<void> {
  await db.query(
    `INSERT INTO deployments (patch_id, target_id, wave, status, error, deployed_commit, previous_commit, revert_commit,
       deployed_at, reverted_at, seq, pull_request, revert_pull_request, note)
     VALUES ($1, $2, $3, $4::text, $5, $6, $7, $8,
       CASE WHEN $4::text = 'deployed' THEN now() END, CASE WHEN $4::text = 'reverted' THEN now() END, $9, $10, $11, $12)
     ON CONFLICT (patch_id, target_id) DO UPDATE SET wave = EXCLUDED.wave, status = EXCLUDED.status, error = EXCLUDED.error,
       deployed_commit = COALESCE(EXCLUDED.deployed_commit, deployments.deployed_commit),
       previous_commit = COALESCE(EXCLUDED.previous_commit, deployments.previous_commit),
       revert_commit = COALESCE(EXCLUDED.revert_commit, deployments.revert_commit),
       deployed_at = COALESCE(deployments.deployed_at, EXCLUDED.deployed_at),
       reverted_at = COALESCE(deployments.reverted_at, EXCLUDED.reverted_at),
       pull_request = COALESCE(EXCLUDED.pull_request, deployments.pull_request),
       revert_pull_request = COALESCE(EXCLUDED.revert_pull_request, deployments.revert_pull_request),
       note = COALESCE(EXCLUDED.note, deployments.note),
       seq = EXCLUDED.seq,
       updated_at = now()
     WHERE deployments.seq <= EXCLUDED.seq`,
    [input.patchId, input.targetId, input.wave, input.status, input.error ?? null, input.deployedCommit ?? null,
      input.previousCommit ?? null, input.revertCommit ?? null, input.seq ?? 0, jsonOrNull(input.pullRequest), jsonOrNull(input.revertPullRequest),
      input.note ?? null],
  );
}

function jsonOrNull(value: object | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** Health samples kept per patch and target in the read model (the newest; the audit trail keeps every round). */
export const KEPT_SAMPLES_PER_TARGET = 1_000;

export interface HealthRoundInput {
  patchId: string;
  targetId: string;
  wave: number;
  /** Number of the health round within the wave. */
  round: number;
  samples: readonly HealthSample[];
}

/**
 * Stores one round of a target's samples under the keys `<wave>:<round>:<index>`. A retried round replaces
 * its earlier attempt, so the read model shows the samples the workflow received.
 */
export function saveHealthRound(pool: Pool, input: HealthRoundInput): Promise<void> {
  return saveHealthRounds(pool, [input]);
}

/** saveHealthRound for many rounds (a wave's targets) with one insert and one trim; a repeated sample key keeps the last. */
export async function saveHealthRounds(db: Queryable, inputs: readonly HealthRoundInput[]): Promise<void> {
  const rows = new Map<string, unknown[]>();
  for (const input of inputs) {
    input.samples.forEach((sample, index) => {
      const key = `${input.wave}:${input.round}:${index}`;
      rows.set(`${input.patchId} ${input.targetId} ${key}`, [input.patchId, input.targetId, input.wave, key, sample.ok, sample.checkType,
        sample.check, sample.detail, Math.round(sample.latencyMs), sample.status ?? null, sample.exitCode ?? null, sample.at, sample.error === true]);
    });
  }
  await insertRows(
    db,
    `INSERT INTO health_samples (patch_id, target_id, wave, sample_key, ok, check_type, check_label, detail, latency_ms,
       status_code, exit_code, sampled_at, error)`,
    [...rows.values()],
    `ON CONFLICT (patch_id, target_id, sample_key) DO UPDATE SET ok = EXCLUDED.ok, check_type = EXCLUDED.check_type,
       check_label = EXCLUDED.check_label, detail = EXCLUDED.detail, latency_ms = EXCLUDED.latency_ms,
       status_code = EXCLUDED.status_code, exit_code = EXCLUDED.exit_code, sampled_at = EXCLUDED.sampled_at, error = EXCLUDED.error`,
  );
  // A rollout watched (or paused) for days samples every round: only the newest samples of a target are kept.
  const byPatch = new Map<string, Set<string>>();
  for (const input of inputs) if (input.samples.length > 0) byPatch.set(input.patchId, (byPatch.get(input.patchId) ?? new Set()).add(input.targetId));
  for (const [patchId, targetIds] of byPatch) {
    await db.query(
      `DELETE FROM health_samples h USING (
         SELECT t.target_id, (SELECT s.sampled_at FROM health_samples s WHERE s.patch_id = $1 AND s.target_id = t.target_id
                              ORDER BY s.sampled_at DESC OFFSET $3 LIMIT 1) AS oldest_kept
         FROM unnest($2::uuid[]) AS t (target_id)) kept
       WHERE h.patch_id = $1 AND h.target_id = kept.target_id AND h.sampled_at < kept.oldest_kept`,
      [patchId, [...targetIds], KEPT_SAMPLES_PER_TARGET - 1],
    );
  }
}
