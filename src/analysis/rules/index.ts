import type { Rule } from '../rule';
import { compatibilityRules } from './compatibility';
import { efficiencyRules } from './efficiency';
import { performanceRules } from './performance';
import { qualityRules } from './quality';
import { securityRules } from './security';

/** Every rule the analyzer knows, by category. */
export const allRules: readonly Rule[] = [
  ...securityRules,
  ...compatibilityRules,
  ...performanceRules,
  ...efficiencyRules,
  ...qualityRules,
];
