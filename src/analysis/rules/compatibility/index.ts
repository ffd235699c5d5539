import type { Rule } from '../../rule';
import { deprecatedWorkflowCommandsRule } from './deprecated-workflow-commands';
import { jobGraphErrorRule } from './job-graph-error';
import { outdatedActionRuntimeRule } from './outdated-action-runtime';
import { retiredActionVersionRule } from './retired-action-version';
import { retiredRunnerLabelRule } from './retired-runner-label';
import { schemaViolationRule } from './schema-violation';
import { yamlSyntaxRule } from './yaml-syntax';

/** The compatibility rules, one import per rule file; keep alphabetical. */
export const compatibilityRules: readonly Rule[] = [
  deprecatedWorkflowCommandsRule,
  jobGraphErrorRule,
  outdatedActionRuntimeRule,
  retiredActionVersionRule,
  retiredRunnerLabelRule,
  schemaViolationRule,
  yamlSyntaxRule,
];
