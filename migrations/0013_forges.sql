-- Pull-request delivery (issue 12). A target may live on a forge (the name of a credential, which is configured
-- on the servers, and owner/name there) and be delivered by pull request; a deployment records its pull request,
-- the revert's, a note (what the checks said before the merge) and the new status `declined` (a person closed the
-- pull request or pushed to its branch).
ALTER TABLE targets ADD COLUMN forge jsonb;
ALTER TABLE targets ADD COLUMN delivery jsonb NOT NULL DEFAULT '{"mode":"push"}'::jsonb;

ALTER TABLE deployments ADD COLUMN pull_request jsonb;
ALTER TABLE deployments ADD COLUMN revert_pull_request jsonb;
ALTER TABLE deployments ADD COLUMN note text;
ALTER TABLE deployments DROP CONSTRAINT deployments_status_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_status_check CHECK (status IN ('pending', 'deploying', 'deployed', 'failed',
  'reverting', 'reverted', 'revert_failed', 'skipped', 'declined'));
