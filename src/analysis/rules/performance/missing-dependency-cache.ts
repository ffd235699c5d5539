import {
  cachingActions,
  type PackageManagerCaching,
  type SetupActionCaching,
  setupActionCaching,
} from '../../knowledge/dependency-caching';
import { isUnfixable, setNestedPair } from '../../edit/yaml-edits';
import {
  type FixPlan,
  jobsOf,
  mapGet,
  mapPair,
  type Rule,
  type RepositoryView,
  stepsOfJob,
  type StepView,
} from '../../rule';
import { majorVersion } from '../../security-sites';
import {
  isPublishingWorkflowFile,
  isSelfHostedJob,
  jobScripts,
  localActionSteps,
  stepAction,
  stepScript,
} from '../cost-facts';

function isCachingAction(name: string): boolean {
  return cachingActions.some((prefix) => name === prefix || name.startsWith(`${prefix}/`));
}

/** True when the steps use a caching action, directly or through local composite actions the repository has. */
function stepsCache(repo: RepositoryView, steps: readonly StepView[], visited: Set<string>): boolean {
  return steps.some((step) => {
    const action = stepAction(step);
    if (action === undefined) return false;
    if (action.ref.kind === 'remote') return isCachingAction(action.name);
    const nested = localActionSteps(repo, action);
    if (nested === undefined || visited.has(action.ref.raw)) return false;
    visited.add(action.ref.raw);
    return stepsCache(repo, nested, visited);
  });
}

/** True when a step before `index` installs the tool (`pnpm`, Poetry) the setup action's cache lookup runs. */
function installedBefore(steps: readonly StepView[], index: number, prerequisite: NonNullable<PackageManagerCaching['prerequisite']>): boolean {
  return steps.slice(0, index).some((step) => {
    const name = stepAction(step)?.name;
    return (name !== undefined && prerequisite.actions.includes(name)) || prerequisite.commands.test(stepScript(step) ?? '');
  });
}

/**
 * Sets the cache input under the step's `with:`. Safe: the lockfile exists and the job installs with this package
 * manager, so the cache only saves downloads; unsafe when the input does more (ruby/setup-ruby's bundler-cache).
 */
function cacheFix(
  steps: readonly StepView[],
  step: StepView,
  setup: SetupActionCaching,
  manager: PackageManagerCaching,
): { fix: FixPlan } | { unfixable: string } {
  const { prerequisite } = manager;
  if (prerequisite !== undefined && !installedBefore(steps, steps.indexOf(step), prerequisite)) {
    return { unfixable: `no earlier step installs ${prerequisite.tool}, which \`${setup.toggle.input}: ${manager.cacheValue}\` needs before ${setup.action} runs` };
  }
  // Boolean toggles get a YAML boolean, not the string 'true'.
  const value = manager.cacheValue === 'true' ? true : manager.cacheValue;
  return {
    fix: {
      safety: manager.sideEffect === undefined ? 'safe' : 'unsafe',
      title: `Add \`${setup.toggle.input}: ${manager.cacheValue}\` to ${setup.action}`,
      edits: ({ file }) => {
        const edit = setNestedPair(file, step.node, 'with', setup.toggle.input, value, { after: 'uses' });
        return isUnfixable(edit) ? edit : [edit];
      },
    },
  };
}

export const missingDependencyCacheRule: Rule = {
  id: 'missing-dependency-cache',
  category: 'performance',
  severity: 'low',
  confidence: 'medium',
  appliesTo: ['workflow'],
  description:
    'Finds setup actions (setup-node, setup-python, setup-go, setup-java, setup-ruby, setup-dotnet) that install ' +
    'dependencies from a lockfile without caching them.',
  rationale:
    'Without a cache every run downloads all dependencies again, which usually costs tens of seconds to minutes per ' +
    'job and adds load on package registries. The setup actions can cache the package manager\'s download directory ' +
    'keyed by the lockfile with a single input, and the cache is only rebuilt when the lockfile changes. The rule ' +
    'only fires when the repository is known to contain a lockfile for that package manager, when the job actually ' +
    'installs dependencies, when no other cache step is present and when the action version does not already cache ' +
    'by default (setup-go v4 and later, setup-node v5 and later for npm). Publishing and release workflows are ' +
    'skipped on purpose: restoring caches there lets a poisoned cache entry end up in released artifacts.',
  remediation:
    'Turn on the setup action\'s cache input for the package manager the project uses, e.g. `cache: npm` for ' +
    'actions/setup-node, `cache: pip` for actions/setup-python, `cache: maven` for actions/setup-java or ' +
    '`bundler-cache: true` for ruby/setup-ruby. Keep release and publishing workflows without caches.',
  examples: {
    bad: `name: CI
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      - run: npm ci
      - run: npm test
`,
    good: `name: CI
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
          cache: npm
      - run: npm ci
      - run: npm test
`,
  },
  fixes: {
    safety: 'safe',
    description:
      'Adds the setup action\'s cache input (`cache: npm`, `cache: pip`, `cache: gradle`...) under its `with:`, only ' +
      'where the lockfile exists and the job installs with that package manager. Not offered for pnpm or Poetry ' +
      'unless an earlier step installs them, and never in release or publishing workflows (the rule stays silent ' +
      'there: a restored cache could end up in what is published). Unsafe for `bundler-cache`, which also runs ' +
      '`bundle install`.',
  },
  check(ctx) {
    // No findings, so no fixes, in publishing workflows: a poisoned cache entry would reach released artifacts.
    if (isPublishingWorkflowFile(ctx.file)) return;
    for (const job of jobsOf(ctx.file)) {
      if (isSelfHostedJob(job)) continue;
      const steps = stepsOfJob(job);
      const scripts = jobScripts(job);
      let jobCaches: boolean | undefined;
      for (const step of steps) {
        const action = stepAction(step);
        if (action?.ref.kind !== 'remote') continue;
        const setup = setupActionCaching.find((candidate) => candidate.action === action.name);
        if (setup === undefined) continue;
        const inputs = mapGet(step.node, 'with');
        const cacheInputs = [setup.toggle.input, ...(setup.otherCacheInputs ?? [])];
        if (cacheInputs.some((input) => mapPair(inputs, input) !== undefined)) continue;
        const major = majorVersion(ctx.file, action);
        const match = firstUsedPackageManager(ctx.repo, setup, scripts, major);
        if (match === undefined) continue;
        jobCaches ??= stepsCache(ctx.repo, steps, new Set());
        if (jobCaches) continue;
        const input = `${setup.toggle.input}: ${match.manager.cacheValue}`;
        ctx.report({
          node: action.node,
          message:
            `\`${setup.action}\` in job \`${job.id}\` installs dependencies without caching them, ` +
            `although \`${match.lockfile}\` exists`,
          remediation: [`Add \`${input}\` under this step's \`with:\`.`, match.manager.note].filter(Boolean).join(' '),
          ...cacheFix(steps, step, setup, match.manager),
        });
      }
    }
  },
};

/** The first package manager whose lockfile exists and whose install command the job runs, unless it may auto-cache. */
function firstUsedPackageManager(
  repo: RepositoryView,
  setup: SetupActionCaching,
  scripts: string,
  major: number | undefined,
): { manager: PackageManagerCaching; lockfile: string } | undefined {
  const defaultOnFrom = setup.toggle.kind === 'when-true' ? setup.toggle.defaultOn?.from : undefined;
  for (const manager of setup.packageManagers) {
    const lockfile = manager.lockfiles.find((path) => repo.fileExists(path));
    if (lockfile === undefined || !manager.installCommand.test(scripts)) continue;
    const autoFrom = manager.mayCacheByDefaultFromMajor ?? defaultOnFrom;
    // An unknown version may well be one that caches by default: stay silent rather than guess.
    if (autoFrom !== undefined && (major === undefined || major >= autoFrom)) return undefined;
    return { manager, lockfile };
  }
  return undefined;
}
