-- Score history: the succeeded analyses of each target within a time range (GET /targets/:id/scores, the fleet's
-- score history and the latest scores of the fleet report), and a target's analysis just before or after a
-- deployment (the patch report). analyses_target_created orders by created_at and holds unfinished analyses too.
CREATE INDEX analyses_target_scores ON analyses (target_id, completed_at) WHERE status = 'succeeded';
