import { type JobView, jobsOf, type Rule, stepsOfJob, type StepView, type WorkflowFile } from '../../rule';
import { canonicalJson, stepAction, stepScript } from '../cost-facts';

/** Shortest repeated run of steps worth a composite action. */
const minimumSequenceLength = 3;

/** Checkouts and pure `echo` steps repeat everywhere and are no reason for a composite action. */
function isTrivial(step: StepView): boolean {
  if (stepAction(step)?.name === 'actions/checkout') return true;
  const script = stepScript(step);
  if (script === undefined) return false;
  const lines = script.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  return lines.every((line) => /^echo\b/.test(line));
}

interface KeyedStep {
  step: StepView;
  /** Everything but `name` and `id`. */
  key: string;
}

function keyedSteps(file: WorkflowFile, job: JobView): KeyedStep[] {
  return stepsOfJob(job).flatMap((step) => {
    if (isTrivial(step)) return [];
    const plain = step.node.toJS(file.doc) as Record<string, unknown>;
    delete plain.name;
    delete plain.id;
    return [{ step, key: canonicalJson(plain) }];
  });
}

/** Generated files repeat steps on purpose; the generator is the place to change. */
function isGenerated(file: WorkflowFile): boolean {
  if (/\.(?:generated|lock)\.ya?ml$/.test(file.path)) return true;
  return /generated|do not edit/i.test(file.text.split('\n').slice(0, 10).join('\n'));
}

function sequenceKey(steps: readonly KeyedStep[], start: number, length: number): string {
  return steps
    .slice(start, start + length)
    .map((step) => step.key)
    .join('\n');
}

function commonLength(a: readonly KeyedStep[], i: number, b: readonly KeyedStep[], j: number): number {
  let length = 0;
  while (i + length < a.length && j + length < b.length && a[i + length]?.key === b[j + length]?.key) length++;
  return length;
}

export const duplicatedStepSequencesRule: Rule = {
  id: 'duplicated-step-sequences',
  category: 'efficiency',
  severity: 'info',
  confidence: 'medium',
  appliesTo: ['workflow'],
  description:
    `Finds the same sequence of ${minimumSequenceLength} or more steps repeated in several jobs of one workflow file.`,
  rationale:
    'Copies of the same setup, build or test steps in several jobs drift apart over time: a version bump, a new ' +
    'cache or a security fix lands in one copy and not in the others, and every change has to be made several times. ' +
    'A local composite action (`.github/actions/<name>/action.yml`) or a matrix over the varying part keeps one ' +
    'definition. Steps are compared by everything except `name` and `id`; checkouts and steps that only `echo` are ' +
    'ignored, and generated workflow files are skipped because their generator is the place to change.',
  remediation:
    'Move the repeated steps into a local composite action and call it from each job with `uses: ' +
    './.github/actions/<name>`, or merge the jobs into one job with a `strategy.matrix` over what differs between ' +
    'them.',
  examples: {
    bad: `name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      - run: npm ci
      - run: npm run build
      - run: npm test
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      - run: npm ci
      - run: npm run build
      - run: npm run lint
`,
    good: `name: CI
on: push
jobs:
  check:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        task: [test, lint]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      - run: npm ci
      - run: npm run build
      - run: npm run \${{ matrix.task }}
`,
  },
  check(ctx) {
    if (isGenerated(ctx.file)) return;
    const jobs = jobsOf(ctx.file).map((job) => ({ job, steps: keyedSteps(ctx.file, job), covered: new Set<number>() }));
    for (const [index, current] of jobs.entries()) {
      const later = jobs.slice(index + 1);
      for (let start = 0; start < current.steps.length; start++) {
        if (current.covered.has(start)) continue;
        const length = Math.max(
          0,
          ...later.flatMap((other) => other.steps.map((_, at) => commonLength(current.steps, start, other.steps, at))),
        );
        if (length < minimumSequenceLength) continue;
        const sequence = sequenceKey(current.steps, start, length);
        const occurrences = [{ ...current, start }];
        for (const other of later) {
          const at = other.steps.findIndex(
            (_, j) => !other.covered.has(j) && sequenceKey(other.steps, j, length) === sequence,
          );
          if (at >= 0) occurrences.push({ ...other, start: at });
        }
        if (occurrences.length < 2) continue;
        for (const occurrence of occurrences) {
          for (let k = 0; k < length; k++) occurrence.covered.add(occurrence.start + k);
        }
        const first = current.steps[start];
        if (first === undefined) continue;
        const jobNames = occurrences.map((occurrence) => `\`${occurrence.job.id}\``).join(', ');
        ctx.report({
          // The first entry of the first step: a one-line anchor for a finding about several steps.
          node: first.step.node.items[0] ?? first.step.node,
          message: `the same ${length} steps starting here are repeated in jobs ${jobNames}`,
        });
        start += length - 1;
      }
    }
  },
};
