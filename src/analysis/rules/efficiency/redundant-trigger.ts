import type { Node } from 'yaml';
import {
  jobsOf,
  mapGet,
  mapPair,
  type Rule,
  rootMap,
  scalarText,
  stringList,
  triggersOf,
  type WorkflowFile,
} from '../../rule';
import { pullRequestRunsPerCommit } from '../cost-facts';

/** Branch patterns that match any feature branch. */
const anyBranchPatterns = new Set(['*', '**']);

/**
 * Why `push` also fires for commits on pull request branches, or undefined when it only fires for chosen branches
 * or only for tags. GitHub: a push filter with only tags (or tags-ignore) never runs for branch pushes.
 */
function pushCoversFeatureBranches(push: Node | null): string | undefined {
  const branches = mapPair(push, 'branches');
  const branchesIgnore = mapPair(push, 'branches-ignore');
  const tagsOnly = mapPair(push, 'tags') !== undefined || mapPair(push, 'tags-ignore') !== undefined;
  if (branches === undefined && branchesIgnore === undefined) return tagsOnly ? undefined : 'has no branch filter';
  if (branchesIgnore !== undefined) return 'only ignores some branches (`branches-ignore`)';
  const patterns = stringList(branches?.value);
  const wildcard = patterns.find((pattern) => anyBranchPatterns.has(pattern));
  return wildcard === undefined ? undefined : `matches every branch (\`${wildcard}\`)`;
}

/** A path filter as a comparable key: kind plus sorted patterns ('' when there is none). */
function pathFilterKey(config: Node | null): string {
  return ['paths', 'paths-ignore']
    .map((kind) => {
      const pair = mapPair(config, kind);
      return pair === undefined ? '' : `${kind}:${JSON.stringify(stringList(pair.value).sort())}`;
    })
    .join('|');
}

/** True when the runs are already deduplicated by job conditions or a shared concurrency group. */
function alreadyDeduplicated(file: WorkflowFile): boolean {
  const jobs = jobsOf(file);
  const conditions = jobs.map((job) => scalarText(mapGet(job.node, 'if')) ?? '');
  // The usual guard: skip pull_request runs from branches of this repository
  // (`github.event.pull_request.head.repo.full_name != github.repository`).
  if (conditions.some((condition) => condition.includes('head.repo'))) return true;
  if (jobs.length > 0 && conditions.every((condition) => condition.includes('github.event_name'))) return true;
  // `head_ref || ref_name` gives push and pull_request runs of one branch the same group, so one cancels the other.
  const group = scalarText(mapGet(mapGet(rootMap(file), 'concurrency'), 'group')) ?? '';
  return /head_ref\s*\|\|\s*github\.ref_name/.test(group);
}

export const redundantTriggerRule: Rule = {
  id: 'redundant-trigger',
  category: 'efficiency',
  severity: 'low',
  confidence: 'medium',
  appliesTo: ['workflow'],
  description:
    'Finds workflows triggered by both `push` on all branches and `pull_request`, so every commit pushed to a pull ' +
    'request branch runs the workflow twice.',
  rationale:
    'A `push` trigger without a branch filter runs for every branch of the repository, including the branches of ' +
    'open pull requests, and the `pull_request` trigger then runs the same jobs again for the same commit (on the ' +
    'merge commit). Each pull request commit costs two runs and two sets of status checks. The usual setup is `push` ' +
    'limited to the default and release branches plus `pull_request`; that pattern is not reported, and neither are ' +
    'push triggers limited to tags, triggers with different path filters (their runs may not overlap), nor workflows ' +
    'whose jobs already skip one of the two events. Forks are not affected (pushes to a fork run in the fork), which ' +
    'is why some projects keep an unfiltered `push` on purpose so contributors get CI in their forks before opening ' +
    'a pull request.',
  remediation:
    'Limit `push` to the branches that are not reviewed through pull requests, e.g. `push: { branches: [main] }`, ' +
    'and keep `pull_request` for everything else. If required status checks name the push run, update the branch ' +
    'protection rules at the same time.',
  examples: {
    bad: `name: CI
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
`,
    good: `name: CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
`,
  },
  check(ctx) {
    const triggers = triggersOf(ctx.file);
    const push = triggers.get('push');
    const pullRequest = triggers.get('pull_request');
    if (push === undefined || pullRequest === undefined || !pullRequestRunsPerCommit(ctx.file)) return;
    const reason = pushCoversFeatureBranches(push.config);
    if (reason === undefined || pathFilterKey(push.config) !== pathFilterKey(pullRequest.config)) return;
    if (alreadyDeduplicated(ctx.file)) return;
    ctx.report({
      node: push.keyNode,
      message:
        `\`push\` ${reason} and \`pull_request\` is also a trigger, ` +
        'so every commit pushed to a pull request branch of this repository runs the workflow twice',
    });
  },
};
