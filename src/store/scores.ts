/**
 * Scores over time, from the succeeded analyses: every analysis stores its target's score. Reads only; the
 * partial index analyses_target_scores (migration 0012) serves every query here, target by target.
 */
import type { Pool } from 'pg';

export interface ScorePoint {
  analysisId: string;
  score: number;
  commitSha: string | null;
  /** When the analysis completed. */
  at: string;
}

/** A target's score on one UTC day: that of the day's last analysis. */
export interface DailyScore extends ScorePoint {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
}

export interface TargetScoreHistory {
  targetId: string;
  target: string;
  /** Oldest day first; days without an analysis are left out. */
  points: DailyScore[];
}

interface PointRow {
  analysis_id: string;
  score: number;
  commit_sha: string | null;
  completed_at: Date;
}

function pointOf(row: PointRow): ScorePoint {
  return { analysisId: row.analysis_id, score: row.score, commitSha: row.commit_sha, at: row.completed_at.toISOString() };
}

interface HistoryRow {
  target_id: string;
  name: string;
  /** Null, like the analysis columns, for a target without analyses in the range. */
  day: string | null;
  analysis_id: string | null;
  score: number | null;
  commit_sha: string | null;
  completed_at: Date | null;
}

/** Each target's (or one target's) daily score since `since`, targets by name; a target without analyses has no points. */
export async function dailyScores(pool: Pool, query: { since: Date; targetId?: string }): Promise<TargetScoreHistory[]> {
  const { rows } = await pool.query<HistoryRow>(
    `SELECT t.id AS target_id, t.name, s.day, s.analysis_id, s.score, s.commit_sha, s.completed_at
       FROM targets t
       LEFT JOIN LATERAL (
         SELECT DISTINCT ON (day) to_char(a.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, a.id AS analysis_id,
                a.score, a.commit_sha, a.completed_at
           FROM analyses a
          WHERE a.target_id = t.id AND a.status = 'succeeded' AND a.score IS NOT NULL AND a.completed_at >= $1
          ORDER BY day, a.completed_at DESC) s ON true
      WHERE $2::uuid IS NULL OR t.id = $2
      ORDER BY t.name, t.id, s.day`,
    [query.since, query.targetId ?? null],
  );
  const histories = new Map<string, TargetScoreHistory>();
  for (const row of rows) {
    const history = histories.get(row.target_id) ?? { targetId: row.target_id, target: row.name, points: [] };
    histories.set(row.target_id, history);
    const { day, analysis_id: analysisId, score, commit_sha: commitSha, completed_at: completedAt } = row;
    if (day !== null && analysisId !== null && score !== null && completedAt !== null) {
      history.points.push({ day, ...pointOf({ analysis_id: analysisId, score, commit_sha: commitSha, completed_at: completedAt }) });
    }
  }
  return [...histories.values()];
}

export interface LatestScores {
  targetId: string;
  target: string;
  latest: ScorePoint | null;
  /** The analysis before the latest: the trend compares the two. */
  previous: ScorePoint | null;
}

/** Every target's two newest scores, targets by name. */
export async function latestScores(pool: Pool): Promise<LatestScores[]> {
  const { rows } = await pool.query<PointRow & { target_id: string; name: string; rank: string | null }>(
    `SELECT t.id AS target_id, t.name, r.analysis_id, r.score, r.commit_sha, r.completed_at, r.rank
       FROM targets t
       LEFT JOIN LATERAL (
         SELECT id AS analysis_id, score, commit_sha, completed_at, row_number() OVER (ORDER BY completed_at DESC) AS rank
           FROM analyses WHERE target_id = t.id AND status = 'succeeded' AND score IS NOT NULL
          ORDER BY completed_at DESC LIMIT 2) r ON true
      ORDER BY t.name, t.id, r.rank`,
  );
  const byTarget = new Map<string, LatestScores>();
  for (const row of rows) {
    const entry = byTarget.get(row.target_id) ?? { targetId: row.target_id, target: row.name, latest: null, previous: null };
    byTarget.set(row.target_id, entry);
    if (row.rank === '1') entry.latest = pointOf(row);
    if (row.rank === '2') entry.previous = pointOf(row);
  }
  return [...byTarget.values()];
}

/** Where to look for a target's score around a patch: the last analysis before `before`, the first within `after`. */
export interface ScoreWindow {
  targetId: string;
  before: Date;
  /** Absent for a target the patch was never deployed to. */
  after?: { from: Date; until: Date | null };
}

export interface ScoresAround {
  before: ScorePoint | null;
  after: ScorePoint | null;
}

/** Per target of `windows`, its score just before and the first one after (see ScoreWindow). */
export async function scoresAround(pool: Pool, windows: readonly ScoreWindow[]): Promise<Map<string, ScoresAround>> {
  // row_to_json leaves the time as text.
  type JsonPointRow = Omit<PointRow, 'completed_at'> & { completed_at: string };
  const { rows } = await pool.query<{ target_id: string; before: JsonPointRow | null; after: JsonPointRow | null }>(
    `SELECT w.target_id,
            (SELECT row_to_json(b) FROM (
               SELECT id AS analysis_id, score, commit_sha, completed_at FROM analyses
                WHERE target_id = w.target_id AND status = 'succeeded' AND score IS NOT NULL AND completed_at < w.before_at
                ORDER BY completed_at DESC LIMIT 1) b) AS before,
            (SELECT row_to_json(a) FROM (
               SELECT id AS analysis_id, score, commit_sha, completed_at FROM analyses
                WHERE target_id = w.target_id AND status = 'succeeded' AND score IS NOT NULL AND w.after_from IS NOT NULL
                  AND completed_at > w.after_from AND (w.after_until IS NULL OR completed_at < w.after_until)
                ORDER BY completed_at LIMIT 1) a) AS after
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[]) AS w(target_id, before_at, after_from, after_until)`,
    [
      windows.map((window) => window.targetId),
      windows.map((window) => window.before.toISOString()),
      windows.map((window) => window.after?.from.toISOString() ?? null),
      windows.map((window) => window.after?.until?.toISOString() ?? null),
    ],
  );
  const point = (row: JsonPointRow | null): ScorePoint | null => (row === null ? null : pointOf({ ...row, completed_at: new Date(row.completed_at) }));
  return new Map(rows.map((row) => [row.target_id, { before: point(row.before), after: point(row.after) }]));
}
