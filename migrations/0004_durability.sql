-- What the durable lifecycle needs beyond 0003.

-- Deployment rows carry the sequence number of the workflow step that wrote them: a retried or late write of an
-- older step (a deploy finishing after its revert was recorded) never overwrites a newer one. 0 for older rows.
ALTER TABLE deployments ADD COLUMN seq integer NOT NULL DEFAULT 0;

-- A revert that found nothing to revert leaves this marker: a deploy of the same patch to the same target that
-- arrives later (a retried attempt, a worker that was cut off) refuses to push.
CREATE TABLE revert_markers (
  patch_id  uuid NOT NULL REFERENCES patches (id),
  target_id uuid NOT NULL REFERENCES targets (id),
  marked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patch_id, target_id)
);

-- Activities read a patch's diff by its hash instead of receiving it in every input.
CREATE INDEX patches_diff_sha256 ON patches (diff_sha256);

-- A health sample that could not be taken (an error) is counted apart from one that failed.
ALTER TABLE health_samples ADD COLUMN error boolean NOT NULL DEFAULT false;
