import type { Rule } from '../../rule';

/** The performance rules, one import per rule file; keep alphabetical. */
export const performanceRules: readonly Rule[] = [];
