import { insertPair, type KeyPlacement } from '../../edit/yaml-edits';
import { type FixPlan, type JobView, jobsOf, mapGet, mapPair, type Rule, stepsOfJob, stringList } from '../../rule';
import { jobHasSteps, scalarValues } from '../cost-facts';

/**
 * macOS minutes are billed at ten times the Linux rate, so a hung macOS job is the expensive case. A `runs-on`
 * expression counts as macOS when the job's matrix lists a macOS label.
 */
function runsOnMacos(job: JobView): boolean {
  const runsOn = mapGet(job.node, 'runs-on');
  const labels = [...stringList(runsOn), ...stringList(mapGet(runsOn, 'labels'))];
  const candidates = labels.some((label) => label.includes('${{'))
    ? [...labels, ...scalarValues(mapGet(mapGet(job.node, 'strategy'), 'matrix'))]
    : labels;
  return candidates.some((label) => /^macos/i.test(label));
}

/** Right after `runs-on`, where readers look for the job's runner facts; else before `steps`; else last. */
function timeoutPlacement(job: JobView): KeyPlacement | undefined {
  if (mapPair(job.node, 'runs-on')) return { after: 'runs-on' };
  return mapPair(job.node, 'steps') ? { before: 'steps' } : undefined;
}

/** Unsafe: a job that usually runs longer than the chosen timeout would now be cancelled. */
function addTimeout(job: JobView): FixPlan {
  return {
    safety: 'unsafe',
    title: `Add \`timeout-minutes\` to job \`${job.id}\``,
    edits: ({ file, settings }) => [insertPair(file, job.node, 'timeout-minutes', settings.jobTimeoutMinutes, timeoutPlacement(job))],
  };
}

export const missingJobTimeoutRule: Rule = {
  id: 'missing-job-timeout',
  category: 'efficiency',
  severity: 'low',
  confidence: 'high',
  appliesTo: ['workflow'],
  description: 'Finds jobs that run steps without `timeout-minutes`, so a hung job runs for the 360-minute default.',
  rationale:
    'A job without `timeout-minutes` may run for up to 6 hours before GitHub cancels it. A hung test, a stuck ' +
    'network call or an interactive prompt then burns runner minutes (billed for private repositories, ten times the ' +
    'Linux rate on macOS), blocks a self-hosted runner and delays the feedback that something is wrong. A timeout a ' +
    'few times longer than the usual duration of the job stops such runs early. Jobs that call a reusable workflow ' +
    'are skipped (the called workflow sets its own timeouts), and so are jobs in which every step already has its ' +
    'own `timeout-minutes`.',
  remediation:
    'Add `timeout-minutes` to the job, set to a generous multiple of its usual duration (look at recent runs; 30 or ' +
    '60 minutes covers most build and test jobs).',
  examples: {
    bad: `name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
`,
    good: `name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - run: make test
`,
  },
  fixes: {
    safety: 'unsafe',
    description:
      'Adds `timeout-minutes` (30 by default, `wpa fix --job-timeout`) after the job\'s `runs-on`. Unsafe: a job that ' +
      'usually runs longer is cancelled.',
  },
  check(ctx) {
    for (const job of jobsOf(ctx.file)) {
      if (!jobHasSteps(job) || mapPair(job.node, 'timeout-minutes') !== undefined) continue;
      const steps = stepsOfJob(job);
      // Step timeouts bound the job too when every step has one.
      if (steps.length > 0 && steps.every((step) => mapPair(step.node, 'timeout-minutes') !== undefined)) continue;
      const macos = runsOnMacos(job);
      ctx.report({
        node: job.keyNode,
        message:
          `job \`${job.id}\` has no \`timeout-minutes\`, so a hung run lasts up to 360 minutes` +
          (macos ? ' on macOS runners billed at about ten times the Linux rate' : ''),
        ...(macos ? { severity: 'medium' as const } : {}),
        fix: addTimeout(job),
      });
    }
  },
};
