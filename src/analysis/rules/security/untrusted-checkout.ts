import { checkoutForkGuard, untrustedCheckoutTriggers } from '../../knowledge/untrusted-contexts';
import { jobsOf, mapGet, type Rule, scalarText, stepsOfJob, type StepView } from '../../rule';
import { withInput } from '../../security-sites';
import { escapeRegExp } from '../../../util/regexp';
import {
  admittedTriggers,
  locateInScalar,
  pullRequestCheckouts,
  runsWorkspaceCode,
  sameRepositoryOnly,
  workflowTriggers,
} from './support/untrusted-flow';

/** Triggers under which actions/checkout's own fork guard would apply (unverified, see checkoutForkGuard). */
const guardedTriggers = new Set(['pull_request_target', 'workflow_run']);

const remediation =
  'Split the work: build and test the pull request in a `pull_request` workflow (no secrets, read-only token), upload the results as an artifact, and let a `workflow_run` workflow that never checks out or executes pull-request code publish them. If the job must see the code, treat it as data only (no `run:` steps, no local actions, no package installs) and keep `persist-credentials: false`.';

/** Added when the checkout version may carry actions/checkout's fork guard, which could not be verified. */
const guardNote = `Recent actions/checkout versions may refuse fork pull-request code here unless \`${checkoutForkGuard.input}: true\` is set, but that guard is unverified.`;
const guardRemediation = `${remediation} Do not rely on actions/checkout refusing fork code, and never set \`${checkoutForkGuard.input}: true\` in such a job.`;

/**
 * The first later step that runs code from the checked-out tree: any `run:` or local action when the checkout
 * went to the workspace root, else one whose script, `working-directory` or local action names the checkout path.
 */
function laterRunner(steps: StepView[], checkout: StepView): StepView | undefined {
  const path = scalarText(withInput(checkout.node, 'path'))?.trim().replace(/^\.\//, '').replace(/\/+$/, '');
  const later = steps.filter((step) => step.index > checkout.index && runsWorkspaceCode(step));
  if (path === undefined || path === '' || path === '.') return later[0];
  const pathPattern = new RegExp(`(^|[^\\w.-])${escapeRegExp(path)}($|[^\\w-])`);
  const mentionsPath = (text: string | undefined): boolean => text !== undefined && pathPattern.test(text);
  return later.find(
    (step) =>
      mentionsPath(scalarText(mapGet(step.node, 'run'))) ||
      mentionsPath(scalarText(mapGet(step.node, 'working-directory'))) ||
      mentionsPath(scalarText(mapGet(step.node, 'uses'))),
  );
}

/** True when a script has commands after the line at `offset` (they run in the checked-out tree). */
function runsMoreAfter(script: string, offset: number): boolean {
  const lineEnd = script.indexOf('\n', offset);
  return lineEnd >= 0 && script.slice(lineEnd).split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

function stepLabel(step: StepView): string {
  const name = scalarText(mapGet(step.node, 'name')) ?? scalarText(mapGet(step.node, 'id'));
  if (name !== undefined) return `\`${name}\``;
  const run = scalarText(mapGet(step.node, 'run'))?.trim().split('\n')[0];
  if (run !== undefined) return `\`${run.length > 40 ? `${run.slice(0, 40)}...` : run}\``;
  return `\`${scalarText(mapGet(step.node, 'uses')) ?? `#${step.index + 1}`}\``;
}

export const untrustedCheckoutRule: Rule = {
  id: 'untrusted-checkout',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow'],
  description:
    'Finds jobs that check out pull-request code (the head or merge commit, or the fork repository) under `pull_request_target`, `workflow_run` or `issue_comment`, where the job holds the base repository\'s secrets and write token.',
  rationale:
    'These triggers run with the base repository\'s secrets, a token that can push, and its caches, even for pull requests from forks. Once the job checks out the pull request, its build scripts, package manifests (`npm install` runs lifecycle scripts), Makefiles and local actions are the attacker\'s, and any later step that runs them hands over those secrets: the "pwn request". A checkout followed by a step that runs the code is critical. Recent actions/checkout releases are reported to refuse the common forms for fork pull requests under `pull_request_target` and `workflow_run` unless `allow-unsafe-pr-checkout: true` is set; that change is not verified, so the rule still reports checkouts with those versions, at high instead of critical severity (with the override set they stay critical). `git`/`gh` commands in scripts have no such guard. Jobs limited to same-repository pull requests (`github.event.pull_request.head.repo.full_name == github.repository`) are skipped.',
  remediation,
  examples: {
    bad: `on:
  pull_request_target:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4.2.2
        with:
          ref: \${{ github.event.pull_request.head.sha }}
      - run: npm ci && npm test
`,
    good: `on:
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4.2.2
      - run: npm ci && npm test
`,
  },
  check(ctx) {
    const triggers = workflowTriggers(ctx.file);
    if (!triggers) return;
    for (const job of jobsOf(ctx.file)) {
      if (sameRepositoryOnly(job.node)) continue;
      const steps = stepsOfJob(job);
      for (const checkout of pullRequestCheckouts(ctx.file, job)) {
        if (sameRepositoryOnly(checkout.step.node)) continue;
        const admitted = admittedTriggers(triggers, job.node, checkout.step.node);
        const exposed = untrustedCheckoutTriggers.filter((event) => admitted.has(event) && checkout.events.has(event));
        if (exposed.length === 0) continue;
        const mayBeGuarded = checkout.guardedByCheckout && exposed.every((event) => guardedTriggers.has(event));
        const { command } = checkout;
        const script = command && scalarText(checkout.node);
        const sameStepRuns = command !== undefined && script !== undefined && runsMoreAfter(script, command.offset);
        const runner = sameStepRuns ? checkout.step : laterRunner(steps, checkout.step);
        const range = command && script !== undefined ? locateInScalar(ctx.file, checkout.node, script, command.offset, command.text) : undefined;
        const events = `\`${exposed.join('`, `')}\``;
        const finding = runner
          ? `Job \`${job.id}\` checks out pull-request code with ${checkout.description} under ${events}, and step ${stepLabel(runner)} then runs code in that checkout.`
          : `Job \`${job.id}\` checks out pull-request code with ${checkout.description} under ${events}; no later step runs it yet, but the job holds the base repository's secrets.`;
        ctx.report({
          node: checkout.node,
          ...(range ? { range } : {}),
          message: mayBeGuarded ? `${finding} ${guardNote}` : finding,
          ...(mayBeGuarded ? { remediation: guardRemediation } : {}),
          ...(runner && !mayBeGuarded ? { severity: 'critical' as const } : {}),
        });
      }
    }
  },
};
