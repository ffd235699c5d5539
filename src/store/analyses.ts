/**
 * Analyses, their findings and fleet scans in the read model. Writes are keyed by the analysis id the API
 * chose before starting the workflow, so a retried activity overwrites instead of duplicating.
 */
import type { Pool } from 'pg';
import { insertRows, type Queryable } from './db';
import { type Analysis, type AnalysisCounts, type Finding, type FixSafety, SEVERITIES, type Severity } from '../domain/types';

interface AnalysisRow {
  id: string;
  target_id: string;
  fleet_scan_id: string | null;
  commit_sha: string | null;
  status: Analysis['status'];
  score: number | null;
  summary: AnalysisCounts | Record<string, never>;
  error: string | null;
  requested_by: string;
  created_at: Date;
  completed_at: Date | null;
}

export function emptyCounts(): AnalysisCounts {
  return { files: 0, findings: 0, bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number> };
}

export function countFindings(findings: readonly Finding[], files: number): AnalysisCounts {
  const counts = emptyCounts();
  counts.files = files;
  counts.findings = findings.length;
  for (const finding of findings) counts.bySeverity[finding.severity] += 1;
  return counts;
}

function fromRow(row: AnalysisRow): Analysis {
  return {
    id: row.id,
    targetId: row.target_id,
    fleetScanId: row.fleet_scan_id,
    commitSha: row.commit_sha,
    status: row.status,
    score: row.score,
    summary: 'findings' in row.summary ? (row.summary as AnalysisCounts) : emptyCounts(),
    error: row.error,
    requestedBy: row.requested_by,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
  };
}

export interface AnalysisStart {
  id: string;
  targetId: string;
  requestedBy: string;
  fleetScanId?: string | undefined;
}

/** Records that an analysis runs (idempotent: a retry keeps the first row). */
export async function startAnalysis(pool: Pool, input: AnalysisStart): Promise<void> {
  await pool.query(
    `INSERT INTO analyses (id, target_id, fleet_scan_id, status, requested_by) VALUES ($1, $2, $3, 'running', $4)
     ON CONFLICT (id) DO NOTHING`,
    [input.id, input.targetId, input.fleetScanId ?? null, input.requestedBy],
  );
}

/** Stores the result and its findings in one transaction; storing the same analysis again replaces them. */
export async function completeAnalysis(
  pool: Pool,
  id: string,
  result: { commitSha: string; score: number; findings: readonly Finding[]; files: number },
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `UPDATE analyses SET status = 'succeeded', commit_sha = $2, score = $3, summary = $4, error = NULL, completed_at = now()
       WHERE id = $1`,
      [id, result.commitSha, result.score, JSON.stringify(countFindings(result.findings, result.files))],
    );
    await client.query('DELETE FROM findings WHERE analysis_id = $1', [id]);
    await insertRows(
      client,
      `INSERT INTO findings (analysis_id, ordinal, fingerprint, rule_id, category, severity, confidence, file, line, col,
         end_line, end_col, message, remediation, fixable, fix_safety, fix_note)`,
      result.findings.map((f, i) => [id, i, f.fingerprint, f.ruleId, f.category, f.severity, f.confidence, f.file, f.line, f.column,
        f.endLine, f.endColumn, f.message, f.remediation, f.fixable, f.fixSafety ?? null, f.fixNote ?? null]),
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export async function failAnalysis(pool: Pool, id: string, error: string): Promise<void> {
  await pool.query(`UPDATE analyses SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status <> 'succeeded'`, [id, error]);
}

export async function getAnalysis(pool: Pool, id: string): Promise<Analysis | undefined> {
  const { rows } = await pool.query<AnalysisRow>('SELECT * FROM analyses WHERE id = $1', [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

interface FindingRow {
  fingerprint: string;
  rule_id: string;
  category: Finding['category'];
  severity: Finding['severity'];
  confidence: Finding['confidence'];
  file: string;
  line: number;
  col: number;
  end_line: number;
  end_col: number;
  message: string;
  remediation: string;
  fixable: boolean;
  fix_safety: FixSafety | null;
  fix_note: string | null;
}

export async function getFindings(pool: Pool, analysisId: string): Promise<Finding[]> {
  const { rows } = await pool.query<FindingRow>('SELECT * FROM findings WHERE analysis_id = $1 ORDER BY ordinal', [analysisId]);
  return rows.map((r) => ({
    ruleId: r.rule_id,
    category: r.category,
    severity: r.severity,
    confidence: r.confidence,
    file: r.file,
    line: r.line,
    column: r.col,
    endLine: r.end_line,
    endColumn: r.end_col,
    message: r.message,
    remediation: r.remediation,
    fixable: r.fixable,
    ...(r.fix_safety !== null ? { fixSafety: r.fix_safety } : {}),
    ...(r.fix_note !== null ? { fixNote: r.fix_note } : {}),
    fingerprint: r.fingerprint,
  }));
}

/** The target's succeeded analyses, newest first: its health score history. */
export async function analysisHistory(pool: Pool, targetId: string, limit = 50): Promise<Analysis[]> {
  const { rows } = await pool.query<AnalysisRow>(
    `SELECT * FROM analyses WHERE target_id = $1 AND status = 'succeeded' ORDER BY completed_at DESC LIMIT $2`,
    [targetId, limit],
  );
  return rows.map(fromRow);
}

export interface FleetScan {
  id: string;
  workflowId: string;
  targetIds: string[];
  status: 'running' | 'completed' | 'failed';
  requestedBy: string;
  createdAt: string;
  completedAt: string | null;
  analyses: Analysis[];
}

export async function createFleetScan(pool: Queryable, scan: { id: string; workflowId: string; targetIds: string[]; requestedBy: string }): Promise<void> {
  await pool.query(
    `INSERT INTO fleet_scans (id, workflow_id, target_ids, status, requested_by) VALUES ($1, $2, $3, 'running', $4)
     ON CONFLICT (id) DO NOTHING`,
    [scan.id, scan.workflowId, scan.targetIds, scan.requestedBy],
  );
}

/**
 * The ids of `count` targets of the scan from `offset` (0-based) on, in the order the scan was made with: what one
 * batch of a batched scan analyzes, read here so no workflow input carries every target id.
 */
export async function fleetScanTargetSlice(pool: Pool, id: string, offset: number, count: number): Promise<string[] | undefined> {
  const { rows } = await pool.query<{ target_ids: string[] | null }>('SELECT target_ids[$2:$3] AS target_ids FROM fleet_scans WHERE id = $1', [id, offset + 1, offset + count]);
  const row = rows[0];
  // PostgreSQL gives NULL, not an empty array, for a slice past the end.
  return row ? (row.target_ids ?? []) : undefined;
}

/** The ids of the scan's analyses with `status`, in the order of the scan's targets. */
export async function fleetScanAnalysisIds(pool: Pool, scanId: string, status: Analysis['status']): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT a.id FROM fleet_scans s CROSS JOIN LATERAL unnest(s.target_ids) WITH ORDINALITY AS t (target_id, position)
       JOIN analyses a ON a.fleet_scan_id = s.id AND a.target_id = t.target_id
      WHERE s.id = $1 AND a.status = $2 ORDER BY t.position, a.created_at`,
    [scanId, status],
  );
  return rows.map((row) => row.id);
}

export async function completeFleetScan(pool: Pool, id: string, failed: number): Promise<void> {
  await pool.query(`UPDATE fleet_scans SET status = $2, completed_at = now() WHERE id = $1`, [id, failed > 0 ? 'failed' : 'completed']);
}

export async function getFleetScan(pool: Pool, id: string): Promise<FleetScan | undefined> {
  const { rows } = await pool.query<{ id: string; workflow_id: string; target_ids: string[]; status: FleetScan['status']; requested_by: string; created_at: Date; completed_at: Date | null }>(
    'SELECT * FROM fleet_scans WHERE id = $1',
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const analyses = await pool.query<AnalysisRow>('SELECT * FROM analyses WHERE fleet_scan_id = $1 ORDER BY created_at', [id]);
  return {
    id: row.id,
    workflowId: row.workflow_id,
    targetIds: row.target_ids,
    status: row.status,
    requestedBy: row.requested_by,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
    analyses: analyses.rows.map(fromRow),
  };
}
