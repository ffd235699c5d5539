/** Health samples of a patch counted per target, for its report (getPatch returns only the newest few). */
import type { Pool } from 'pg';

export interface HealthSampleCounts {
  samples: number;
  /** Checks that ran and failed. */
  failed: number;
  /** Checks that could not be taken. */
  errors: number;
  /** The first sample that was not ok; null when every sample passed. */
  firstFailureAt: string | null;
}

/** Target id -> its samples in this patch, counted (the read model keeps the newest 1,000 per target). */
export async function healthSampleCounts(pool: Pool, patchId: string): Promise<Map<string, HealthSampleCounts>> {
  const { rows } = await pool.query<{ target_id: string; samples: number; failed: number; errors: number; first_failure_at: Date | null }>(
    `SELECT target_id, count(*)::int AS samples, count(*) FILTER (WHERE NOT ok AND NOT error)::int AS failed,
            count(*) FILTER (WHERE error)::int AS errors, min(sampled_at) FILTER (WHERE NOT ok) AS first_failure_at
       FROM health_samples WHERE patch_id = $1 GROUP BY target_id`,
    [patchId],
  );
  return new Map(
    rows.map((row) => [row.target_id, { samples: row.samples, failed: row.failed, errors: row.errors, firstFailureAt: row.first_failure_at?.toISOString() ?? null }]),
  );
}
