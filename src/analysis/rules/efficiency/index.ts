import type { Rule } from '../../rule';
import { duplicatedStepSequencesRule } from './duplicated-step-sequences';
import { inefficientMatrixRule } from './inefficient-matrix';
import { missingConcurrencyCancelRule } from './missing-concurrency-cancel';
import { missingJobTimeoutRule } from './missing-job-timeout';
import { redundantTriggerRule } from './redundant-trigger';

/** The efficiency rules, one import per rule file; keep alphabetical. */
export const efficiencyRules: readonly Rule[] = [
  duplicatedStepSequencesRule,
  inefficientMatrixRule,
  missingConcurrencyCancelRule,
  missingJobTimeoutRule,
  redundantTriggerRule,
];
