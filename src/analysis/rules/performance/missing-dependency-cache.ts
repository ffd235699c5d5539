import {
  cachingActions,
  type PackageManagerCaching,
  type SetupActionCaching,
  setupActionCaching,
} from '../../knowledge/dependency-caching';
import {
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
  check(ctx) {
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
