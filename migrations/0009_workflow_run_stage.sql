-- The workflow-run test stage is a stage of its own (its own activity and test run row), and a target chooses the
-- event whose jobs it runs and whether jobs calling reusable workflows run them.
ALTER TABLE test_runs DROP CONSTRAINT test_runs_stage_check;
ALTER TABLE test_runs ADD CONSTRAINT test_runs_stage_check CHECK (stage IN ('isolated', 'integration', 'safety', 'regression', 'workflow-run'));
ALTER TABLE targets ADD COLUMN workflow_run_event text NOT NULL DEFAULT 'push';
ALTER TABLE targets ADD COLUMN workflow_run_called_workflows boolean NOT NULL DEFAULT true;
