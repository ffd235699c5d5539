-- What the security hardening needs beyond 0002.

-- How a target's commands run in the sandbox: whether they may reach the network, and the only variables they get.
ALTER TABLE targets ADD COLUMN sandbox jsonb NOT NULL DEFAULT '{"network": false, "env": {}}'::jsonb;

-- Signed anchors of the audit chain: (number of events, hash of the newest) with an HMAC under a key the database
-- never sees, so deleting the newest events or recomputing the chain after an edit no longer goes unnoticed.
-- Written by the service as well to a file under the data folder and to the log.
CREATE TABLE audit_checkpoints (
  events    bigint PRIMARY KEY CHECK (events >= 0),
  head_hash text NOT NULL,
  at        timestamptz NOT NULL,
  mac       text NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- GET /api/v1/audit?target=: a patch's deployment and health events name their target in details.targetId.
CREATE INDEX audit_events_target ON audit_events ((details ->> 'targetId'), seq);

-- The service's own role gets exactly what it needs (src/store/roles.ts); nobody else gets anything by default.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
