-- Whether the workflow-run test stage runs the target's own CI jobs (with act) before and after a patch; on unless
-- an admin switches it off for a target whose jobs cannot run on a worker.
ALTER TABLE targets ADD COLUMN workflow_run boolean NOT NULL DEFAULT true;
