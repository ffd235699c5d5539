import { isMap } from 'yaml';
import { jobsOf, mapGet, mapPair, type Rule, rootMap, triggersOf } from '../../rule';
import { isPublishingWorkflowFile, pullRequestRunsPerCommit } from '../cost-facts';

function cancelsInProgress(concurrency: unknown): boolean {
  // Any `cancel-in-progress` value counts: `false` and expressions are deliberate choices.
  return isMap(concurrency) && mapPair(concurrency, 'cancel-in-progress') !== undefined;
}

const remediation =
  'Add a concurrency group keyed by the pull request, for example ' +
  "`concurrency: { group: '${{ github.workflow }}-${{ github.event.pull_request.number || github.ref }}', " +
  "cancel-in-progress: ${{ github.event_name == 'pull_request' }} }`, which cancels superseded pull request runs " +
  'but lets runs on pushed branches finish.';

export const missingConcurrencyCancelRule: Rule = {
  id: 'missing-concurrency-cancel',
  category: 'efficiency',
  severity: 'low',
  confidence: 'high',
  appliesTo: ['workflow'],
  description:
    'Finds workflows triggered by `pull_request` that do not cancel superseded runs with a `concurrency` group and ' +
    '`cancel-in-progress`.',
  rationale:
    'Every push to a pull request branch starts a new run, and without a concurrency group the runs for the older ' +
    'commits keep going although nobody will look at their results. On busy repositories this often doubles the ' +
    'runner minutes spent on pull requests and makes the current run wait for free runners. A `concurrency` group ' +
    'per pull request with `cancel-in-progress` stops the outdated runs as soon as a new commit arrives. Workflows ' +
    'whose `pull_request` trigger does not react to new commits (for example only `labeled` or `closed`) are ' +
    'skipped, as are deliberate `cancel-in-progress` values (including `false`) and groups without it in ' +
    'publishing workflows, which queue deployments on purpose.',
  remediation,
  examples: {
    bad: `name: CI
on:
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
`,
    good: `name: CI
on:
  pull_request:
concurrency:
  group: \${{ github.workflow }}-\${{ github.event.pull_request.number }}
  cancel-in-progress: true
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
`,
  },
  check(ctx) {
    const pullRequest = triggersOf(ctx.file).get('pull_request');
    if (pullRequest === undefined || !pullRequestRunsPerCommit(ctx.file)) return;
    const topLevel = mapPair(rootMap(ctx.file), 'concurrency');
    if (topLevel !== undefined) {
      // Publishing workflows use a group without cancelling on purpose: to queue deployments, not to drop them.
      if (cancelsInProgress(topLevel.value) || isPublishingWorkflowFile(ctx.file)) return;
      ctx.report({
        node: topLevel.key,
        message:
          'the workflow-level `concurrency` group has no `cancel-in-progress`, ' +
          'so runs for superseded pull request commits keep running',
      });
      return;
    }
    const jobs = jobsOf(ctx.file);
    if (jobs.length > 0 && jobs.every((job) => cancelsInProgress(mapGet(job.node, 'concurrency')))) return;
    ctx.report({
      node: pullRequest.keyNode,
      message:
        'the workflow runs on `pull_request` without a `concurrency` group that cancels runs for superseded commits',
    });
  },
};
