-- What the patch lifecycle activities need beyond 0001.

-- The seq of the transition the patch's status comes from: a retried or late write of an older transition must
-- not overwrite a newer status. -1 at creation, so every transition the workflow records (seq >= 0) is newer.
ALTER TABLE patches ADD COLUMN status_seq integer NOT NULL DEFAULT -1;
CREATE INDEX patches_created ON patches (created_at DESC, id DESC);

-- A sample as the workflow evaluated it: failures are counted per check label, and a command check has an exit code.
ALTER TABLE health_samples ADD COLUMN check_label text NOT NULL DEFAULT '';
ALTER TABLE health_samples ADD COLUMN exit_code integer;
