import type { Rule } from '../../rule';

/** The quality rules, one import per rule file; keep alphabetical. */
export const qualityRules: readonly Rule[] = [];
