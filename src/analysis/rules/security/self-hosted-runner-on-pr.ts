import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { forkPullRequestTriggers } from '../../knowledge/untrusted-contexts';
import { jobsOf, type JobView, mapEntries, mapGet, type Rule, scalarText, seqItems, stringList } from '../../rule';
import { findExpressions, parseExpression, possibleValues } from './support/expressions';
import { admittedTriggers, sameRepositoryOnly, workflowTriggers } from './support/untrusted-flow';

const selfHostedLabel = 'self-hosted';

/** A literal matrix value as GitHub would substitute it (a label string or a list of labels). */
function literalValue(node: Node | null): unknown {
  if (isSeq(node)) return stringList(node);
  return scalarText(node);
}

/** The values `matrix.<key>` takes in a job, or undefined when the matrix is computed or the key unknown. */
function matrixValues(job: JobView, key: string): unknown[] | undefined {
  const matrix = mapGet(mapGet(job.node, 'strategy'), 'matrix');
  if (!isMap(matrix)) return undefined;
  const values: unknown[] = [];
  let known = false;
  for (const { key: name, value } of mapEntries(matrix)) {
    if (name === 'include') {
      for (const entry of seqItems(value)) {
        const included = mapGet(entry, key);
        if (included !== undefined) {
          known = true;
          values.push(literalValue(included));
        }
      }
    } else if (name === key) {
      if (!isSeq(value)) return undefined;
      known = true;
      values.push(...seqItems(value).map(literalValue));
    }
  }
  return known && values.every((value) => value !== undefined && !(typeof value === 'string' && value.includes('${{'))) ? values : undefined;
}

function namesSelfHosted(value: unknown): boolean {
  if (typeof value === 'string') return value.trim().toLowerCase() === selfHostedLabel;
  return Array.isArray(value) && value.some(namesSelfHosted);
}

/** True when a `runs-on` label (literal or one `${{ }}` resolvable from literals and the matrix) can be self-hosted. */
function labelCanBeSelfHosted(job: JobView, text: string): boolean {
  const embedded = findExpressions(text);
  if (embedded.length === 0) return namesSelfHosted(text);
  const only = embedded[0];
  if (embedded.length !== 1 || !only || only.text !== text.trim()) return false;
  const node = parseExpression(only.body);
  if (!node) return false;
  const resolve = (path: string[]): unknown[] | undefined => {
    const [root, key] = path;
    return root === 'matrix' && key !== undefined && path.length === 2 ? matrixValues(job, key) : undefined;
  };
  return possibleValues(node, resolve).values.some(namesSelfHosted);
}

/** The node naming a self-hosted runner in `runs-on`, and whether only a runner group suggests it. */
function selfHostedRunner(job: JobView): { node: Node; group: boolean } | undefined {
  const runsOn = mapGet(job.node, 'runs-on');
  if (!runsOn) return undefined;
  const labelNodes = isMap(runsOn) ? [mapGet(runsOn, 'labels')] : [runsOn];
  for (const labels of labelNodes) {
    const items = isScalar(labels) ? [labels] : seqItems(labels);
    const match = items.find((item) => {
      const text = scalarText(item);
      return text !== undefined && labelCanBeSelfHosted(job, text);
    });
    if (match) return { node: match, group: false };
  }
  const group = mapGet(runsOn, 'group');
  return isMap(runsOn) && group !== undefined ? { node: group, group: true } : undefined;
}

export const selfHostedRunnerOnPrRule: Rule = {
  id: 'self-hosted-runner-on-pr',
  category: 'security',
  severity: 'medium',
  confidence: 'high',
  appliesTo: ['workflow'],
  description:
    'Finds jobs on self-hosted runners in workflows that run for pull requests, where a fork can get its code executed on the runner.',
  rationale:
    "A `pull_request` run executes the pull request's code, and for a public repository anyone can open one (first-time contributors may need an approval, later ones do not). On a self-hosted runner that code runs on your machine: it can persist between jobs (non-ephemeral runners), read other jobs' files and credentials, and reach your internal network. `pull_request_target` runs on the same runners and is one checkout away from the same result. Runner groups are reported with low confidence because a group may also hold GitHub-hosted larger runners.",
  remediation:
    "Run pull-request jobs on GitHub-hosted runners, or on ephemeral, isolated self-hosted runners (one job per fresh VM, no network path to internal systems). Otherwise limit the job to same-repository pull requests: `if: github.event.pull_request.head.repo.full_name == github.repository`.",
  examples: {
    bad: `on: pull_request
jobs:
  test:
    runs-on: [self-hosted, linux]
    steps:
      - uses: actions/checkout@v4
      - run: make test
`,
    good: `on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
`,
  },
  check(ctx) {
    const triggers = workflowTriggers(ctx.file);
    if (!triggers) return;
    const pullRequestTriggers = new Set(forkPullRequestTriggers.filter((event) => triggers.has(event)));
    if (pullRequestTriggers.size === 0) return;
    for (const job of jobsOf(ctx.file)) {
      const admitted = admittedTriggers(pullRequestTriggers, job.node);
      if (admitted.size === 0 || sameRepositoryOnly(job.node)) continue;
      const runner = selfHostedRunner(job);
      if (!runner) continue;
      const events = `\`${[...admitted].join('`, `')}\``;
      ctx.report({
        node: runner.node,
        message: runner.group
          ? `Job \`${job.id}\` runs in runner group \`${scalarText(runner.node) ?? '?'}\`, which may hold self-hosted runners, for ${events} events from forks.`
          : `Job \`${job.id}\` runs on a self-hosted runner for ${events} events, so pull requests from forks can run code on it.`,
        ...(runner.group ? { confidence: 'low' as const } : {}),
      });
    }
  },
};
