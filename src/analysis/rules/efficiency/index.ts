import type { Rule } from '../../rule';

/** The efficiency rules, one import per rule file; keep alphabetical. */
export const efficiencyRules: readonly Rule[] = [];
