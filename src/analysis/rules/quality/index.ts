import type { Rule } from '../../rule';
import { constantIfRule } from './constant-if';
import { continueOnErrorHidesFailureRule } from './continue-on-error-hides-failure';
import { shellWithoutFailFastRule } from './shell-without-fail-fast';
import { unnamedDefinitionRule } from './unnamed-definition';

/** The quality rules, one import per rule file; keep alphabetical. */
export const qualityRules: readonly Rule[] = [
  constantIfRule,
  continueOnErrorHidesFailureRule,
  shellWithoutFailFastRule,
  unnamedDefinitionRule,
];
