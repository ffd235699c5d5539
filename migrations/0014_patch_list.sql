-- The patch list pages newest first, optionally by status (issue 13): one index serves the filter, the order and
-- the keyset condition `(created_at, id) < (...)`. It replaces the index on status alone.
CREATE INDEX patches_status_created ON patches (status, created_at DESC, id DESC);
DROP INDEX patches_status;
