-- The read model: what people list, search and report on. Temporal holds orchestration state.
-- Every table written by activities has a natural key, so retried writes are idempotent upserts.

CREATE TABLE targets (
  id             uuid PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  repo_url       text NOT NULL,
  branch         text NOT NULL DEFAULT 'main',
  health_checks  jsonb NOT NULL DEFAULT '[]'::jsonb,
  verify_command jsonb,
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE fleet_scans (
  id           uuid PRIMARY KEY,
  workflow_id  text NOT NULL UNIQUE,
  target_ids   uuid[] NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  requested_by text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);

CREATE TABLE analyses (
  id            uuid PRIMARY KEY,
  target_id     uuid NOT NULL REFERENCES targets (id),
  fleet_scan_id uuid REFERENCES fleet_scans (id),
  commit_sha    text,
  status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  score         integer CHECK (score BETWEEN 0 AND 100),
  summary       jsonb NOT NULL DEFAULT '{}'::jsonb,
  error         text,
  requested_by  text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz
);
CREATE INDEX analyses_target_created ON analyses (target_id, created_at DESC);
CREATE INDEX analyses_fleet_scan ON analyses (fleet_scan_id);

CREATE TABLE findings (
  analysis_id uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
  ordinal     integer NOT NULL,
  fingerprint text NOT NULL,
  rule_id     text NOT NULL,
  category    text NOT NULL,
  severity    text NOT NULL,
  confidence  text NOT NULL,
  file        text NOT NULL,
  line        integer NOT NULL,
  col         integer NOT NULL,
  end_line    integer NOT NULL,
  end_col     integer NOT NULL,
  message     text NOT NULL,
  remediation text NOT NULL,
  fixable     boolean NOT NULL,
  PRIMARY KEY (analysis_id, ordinal)
);
CREATE INDEX findings_rule ON findings (rule_id);

CREATE TABLE patches (
  id            uuid PRIMARY KEY,
  workflow_id   text NOT NULL UNIQUE,
  title         text NOT NULL,
  type          text NOT NULL CHECK (type IN ('bug_fix', 'performance', 'security', 'feature', 'refactor')),
  description   text,
  diff          text NOT NULL,
  diff_sha256   text NOT NULL,
  status        text NOT NULL CHECK (status IN ('pending', 'testing', 'test_failed', 'awaiting_approval', 'rejected',
                  'expired', 'deploying', 'paused', 'deployed', 'rolling_back', 'rolled_back', 'failed', 'cancelled')),
  status_reason text,
  author        text NOT NULL,
  target_ids    uuid[] NOT NULL,
  rollout       jsonb NOT NULL,
  approval      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patches_status ON patches (status);
CREATE INDEX patches_targets ON patches USING gin (target_ids);

CREATE TABLE patch_transitions (
  patch_id    uuid NOT NULL REFERENCES patches (id),
  seq         integer NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  reason      text,
  at          timestamptz NOT NULL,
  PRIMARY KEY (patch_id, seq)
);

CREATE TABLE test_runs (
  patch_id    uuid NOT NULL REFERENCES patches (id),
  stage       text NOT NULL CHECK (stage IN ('isolated', 'integration', 'safety', 'regression')),
  target_id   uuid REFERENCES targets (id),
  status      text NOT NULL CHECK (status IN ('passed', 'failed')),
  summary     text NOT NULL,
  log         text NOT NULL DEFAULT '',
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  UNIQUE NULLS NOT DISTINCT (patch_id, stage, target_id)
);

CREATE TABLE deployments (
  patch_id        uuid NOT NULL REFERENCES patches (id),
  target_id       uuid NOT NULL REFERENCES targets (id),
  wave            integer NOT NULL CHECK (wave >= 1),
  status          text NOT NULL CHECK (status IN ('pending', 'deploying', 'deployed', 'failed', 'reverting', 'reverted',
                    'revert_failed', 'skipped')),
  deployed_commit text,
  previous_commit text,
  revert_commit   text,
  error           text,
  deployed_at     timestamptz,
  reverted_at     timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patch_id, target_id)
);

CREATE TABLE health_samples (
  patch_id    uuid NOT NULL REFERENCES patches (id),
  target_id   uuid NOT NULL REFERENCES targets (id),
  wave        integer NOT NULL,
  sample_key  text NOT NULL,
  ok          boolean NOT NULL,
  check_type  text NOT NULL,
  detail      text NOT NULL,
  latency_ms  integer,
  status_code integer,
  sampled_at  timestamptz NOT NULL,
  PRIMARY KEY (patch_id, target_id, sample_key)
);
CREATE INDEX health_samples_recent ON health_samples (patch_id, target_id, sampled_at DESC);

CREATE TABLE approvals (
  patch_id  uuid NOT NULL REFERENCES patches (id),
  guardian  text NOT NULL,
  decision  text NOT NULL CHECK (decision IN ('approved', 'rejected')),
  comment   text,
  at        timestamptz NOT NULL,
  PRIMARY KEY (patch_id, guardian)
);

-- Append-only, hash-chained audit trail: each row's hash covers the previous row's hash and its own canonical
-- payload, so any edit or deletion breaks verification. Rows are chained in seq order under an advisory lock.
CREATE TABLE audit_events (
  seq             bigint PRIMARY KEY,
  id              uuid NOT NULL UNIQUE,
  idempotency_key text UNIQUE,
  at              timestamptz NOT NULL,
  actor           text NOT NULL,
  roles           text[] NOT NULL DEFAULT '{}',
  action          text NOT NULL,
  subject_type    text,
  subject_id      text,
  request_id      text,
  ip              text,
  user_agent      text,
  method          text,
  path            text,
  status          integer,
  details         jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash       text NOT NULL,
  hash            text NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (subject_type, subject_id, seq);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
