import { isMap, type YAMLMap } from 'yaml';
import { insertPair } from '../../edit/yaml-edits';
import { type FixPlan, jobsOf, mapGet, mapPair, type Rule, rootMap, scalarText, triggersOf } from '../../rule';
import { isPublishingWorkflowFile, pullRequestRunsPerCommit } from '../cost-facts';

function cancelsInProgress(concurrency: unknown): boolean {
  // Any `cancel-in-progress` value counts: `false` and expressions are deliberate choices.
  return isMap(concurrency) && mapPair(concurrency, 'cancel-in-progress') !== undefined;
}

/**
 * One group per pull request; any other run gets a group of its own (its run id), so runs on pushed branches are
 * neither cancelled nor queued behind each other as they were before.
 */
const PULL_REQUEST_GROUP = '${{ github.workflow }}-${{ github.event.pull_request.number || github.run_id }}';
/** Only pull request runs are cancelled, also in groups that key pushes by their branch. */
const CANCEL_PULL_REQUESTS = "${{ github.event_name == 'pull_request' }}";
/** A group that differs per pull request (or per branch or run), so cancelling never stops another pull request's run. */
const perPullRequestGroup = /github\.(?:event\.pull_request\.number|event\.number|head_ref|ref\b|ref_name|run_id|sha)/;

const remediation =
  'Add a concurrency group keyed by the pull request, for example ' +
  `\`concurrency: { group: '${PULL_REQUEST_GROUP}', cancel-in-progress: ${CANCEL_PULL_REQUESTS} }\`, which cancels ` +
  'superseded pull request runs but lets every other run finish.';

/** Safe: only superseded pull request runs are cancelled; other runs get a group of their own. */
const addConcurrency: FixPlan = {
  safety: 'safe',
  title: 'Add a workflow-level `concurrency` group that cancels superseded pull request runs',
  edits: ({ file }) => {
    const root = rootMap(file);
    if (root === undefined) return { unfixable: 'the workflow is not a map' };
    return [insertPair(file, root, 'concurrency', { group: PULL_REQUEST_GROUP, 'cancel-in-progress': CANCEL_PULL_REQUESTS }, { after: 'on' })];
  },
};

/** Safe when the group is keyed per pull request: then only the pull request's own older runs are cancelled. */
function addCancelInProgress(concurrency: YAMLMap): FixPlan {
  return {
    safety: 'safe',
    title: 'Cancel superseded pull request runs in the workflow-level `concurrency` group',
    edits: ({ file }) => [insertPair(file, concurrency, 'cancel-in-progress', CANCEL_PULL_REQUESTS, { after: 'group' })],
  };
}

/** How to fix a workflow-level group without `cancel-in-progress`, or why it cannot be fixed automatically. */
function cancelFix(concurrency: unknown): { fix: FixPlan } | { unfixable: string } {
  if (!isMap(concurrency)) return { unfixable: 'the workflow-level `concurrency` is a bare group name; write it as a map with `group` and `cancel-in-progress`' };
  const group = scalarText(mapGet(concurrency, 'group')) ?? '';
  if (!perPullRequestGroup.test(group)) {
    return { unfixable: 'the concurrency group is not keyed by pull request or branch, so cancelling could stop the runs of other pull requests' };
  }
  return { fix: addCancelInProgress(concurrency) };
}

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
  fixes: {
    safety: 'safe',
    description:
      `Adds a workflow-level \`concurrency\` group \`${PULL_REQUEST_GROUP}\` with \`cancel-in-progress: ` +
      `${CANCEL_PULL_REQUESTS}\`, or adds that \`cancel-in-progress\` to an existing group keyed by pull request or ` +
      'branch. Only pull request runs are cancelled.',
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
        ...cancelFix(topLevel.value),
      });
      return;
    }
    const jobs = jobsOf(ctx.file);
    if (jobs.length > 0 && jobs.every((job) => cancelsInProgress(mapGet(job.node, 'concurrency')))) return;
    ctx.report({
      node: pullRequest.keyNode,
      message:
        'the workflow runs on `pull_request` without a `concurrency` group that cancels runs for superseded commits',
      fix: addConcurrency,
    });
  },
};
