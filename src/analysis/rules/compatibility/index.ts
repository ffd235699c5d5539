import type { Rule } from '../../rule';

/** The compatibility rules, one import per rule file; keep alphabetical. */
export const compatibilityRules: readonly Rule[] = [];
