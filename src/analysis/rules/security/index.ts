import type { Rule } from '../../rule';

/** The security rules, one import per rule file; keep alphabetical. */
export const securityRules: readonly Rule[] = [];
