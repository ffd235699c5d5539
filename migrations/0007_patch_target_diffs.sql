-- Patches generated from analysis findings carry one diff per target, each made at the commit its analysis saw.
-- The lifecycle's activities test and deploy a target's own diff when the patch has one, else the patch's diff
-- (whose hash the workflow input carries), so the workflow's commands stay as they are.
CREATE TABLE patch_target_diffs (
  patch_id          uuid NOT NULL REFERENCES patches (id),
  target_id         uuid NOT NULL REFERENCES targets (id),
  analysis_id       uuid NOT NULL REFERENCES analyses (id),
  -- The commit the analysis saw; base_commit is where the current diff was made (a newer tip once regenerated).
  analysis_commit   text NOT NULL,
  base_commit       text NOT NULL,
  diff              text NOT NULL CHECK (diff <> ''),
  diff_sha256       text NOT NULL,
  -- What the fixer was asked for (ruleIds, fingerprints, unsafe): regeneration on a moved branch asks the same.
  selection         jsonb NOT NULL,
  -- The findings the diff resolves, with the fix that resolves each.
  findings          jsonb NOT NULL,
  -- Set when the branch had moved and the diff was made again at base_commit.
  regenerated_from  text,
  regenerated_at    timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patch_id, target_id)
);
