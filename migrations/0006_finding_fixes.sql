-- A fixable finding records how far its automatic fix can be trusted; a finding without one may say why not.
-- Rows written before this migration have neither (their fixable is false).
ALTER TABLE findings
  ADD COLUMN fix_safety text CHECK (fix_safety IN ('safe', 'unsafe')),
  ADD COLUMN fix_note   text,
  ADD CONSTRAINT findings_fix_safety_when_fixable CHECK ((fix_safety IS NOT NULL) = fixable);
