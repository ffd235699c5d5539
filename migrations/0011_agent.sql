-- The agent (issue 11): targets carry labels that policies select them by; policies (each driving a Temporal
-- Schedule `agent-<id>`), the cycles their ticks ran, the patches the agent proposed (with the key that makes a
-- proposal idempotent) and the memory of fixes Guardians rejected.

-- Kubernetes-style labels: a map of key to value, e.g. {"team": "payments", "tier": "1"}.
ALTER TABLE targets ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE INDEX targets_labels ON targets USING gin (labels);

-- The policy row is the record; the schedule is derived from `spec` (created, updated and deleted with it).
CREATE TABLE agent_policies (
  id         uuid PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  spec       jsonb NOT NULL,
  created_by text NOT NULL,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per scheduled tick (the cycle's workflow id); counts and patch ids once it finished.
CREATE TABLE agent_cycles (
  id          text PRIMARY KEY,
  policy_id   uuid NOT NULL REFERENCES agent_policies (id) ON DELETE CASCADE,
  run_id      text NOT NULL,
  status      text NOT NULL CHECK (status IN ('running', 'completed')),
  counts      jsonb,
  patch_ids   uuid[] NOT NULL DEFAULT '{}',
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX agent_cycles_policy ON agent_cycles (policy_id, started_at DESC);

-- The patches the agent proposed. policy_id has no foreign key: a campaign stays readable after its policy is gone.
-- idempotency_key (policy + rule + target set + finding fingerprints) is unique, so a retried activity or an
-- overlapping tick finds the patch another attempt created instead of creating a second one.
CREATE TABLE agent_patches (
  patch_id            uuid PRIMARY KEY REFERENCES patches (id),
  policy_id           uuid NOT NULL,
  policy_name         text NOT NULL,
  cycle_id            text NOT NULL,
  idempotency_key     text NOT NULL UNIQUE,
  grouping            text NOT NULL CHECK (grouping IN ('per-rule', 'per-target')),
  -- The campaign's rule (per-rule); null for a per-target patch.
  rule_id             text,
  -- Every target the policy selected in that cycle, and per target the number of the rule's open findings then.
  selected_target_ids uuid[] NOT NULL,
  findings_before     jsonb NOT NULL,
  -- What the cycle started the lifecycle with, so a retried or overlapping creation starts the same run.
  lifecycle_input     jsonb NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_patches_policy ON agent_patches (policy_id, created_at DESC);

-- Fixes a Guardian rejected on agent patches: proposed again only when the finding (fingerprint) or the fix changed.
CREATE TABLE agent_rejections (
  target_id   uuid NOT NULL REFERENCES targets (id),
  fingerprint text NOT NULL,
  rule_id     text NOT NULL,
  fix         text NOT NULL,
  patch_id    uuid NOT NULL REFERENCES patches (id),
  rejected_by text NOT NULL,
  reason      text,
  rejected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_id, fingerprint, rule_id, fix)
);
