-- Score history: "the score of each target over the last N days" reads the succeeded analyses of a time range,
-- per target (GET /targets/:id/scores, the latest score of each target in the fleet report) and across the fleet
-- (GET /reports/scores). analyses_target_created orders by created_at and keeps running and failed analyses.
CREATE INDEX analyses_target_scores ON analyses (target_id, completed_at) INCLUDE (score) WHERE status = 'succeeded';
CREATE INDEX analyses_fleet_scores ON analyses (completed_at) INCLUDE (target_id, score) WHERE status = 'succeeded';
