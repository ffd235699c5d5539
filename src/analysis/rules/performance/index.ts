import type { Rule } from '../../rule';
import { dockerBuildWithoutCacheRule } from './docker-build-without-cache';
import { missingDependencyCacheRule } from './missing-dependency-cache';
import { npmInstallInsteadOfCiRule } from './npm-install-instead-of-ci';
import { unnecessaryFullCloneRule } from './unnecessary-full-clone';

/** The performance rules, one import per rule file; keep alphabetical. */
export const performanceRules: readonly Rule[] = [
  dockerBuildWithoutCacheRule,
  missingDependencyCacheRule,
  npmInstallInsteadOfCiRule,
  unnecessaryFullCloneRule,
];
