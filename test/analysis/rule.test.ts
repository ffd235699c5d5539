import { parseWorkflowFile } from '../../src/analysis/parse';
import { jobsOf, parseActionRef, stepsOf, stepsOfJob, triggersOf } from '../../src/analysis/rule';

const text = [
  'on:',
  '  push:',
  '  pull_request:',
  'jobs:',
  '  build:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - uses: actions/checkout@v4',
  '      - run: make',
  '  lint:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - run: make lint',
  '',
].join('\n');

describe('navigation helpers (cached per file)', () => {
  it('answer the same on every call, and callers may change what they get', () => {
    const file = parseWorkflowFile('.github/workflows/ci.yml', text, 'workflow');
    const jobs = jobsOf(file);
    expect(jobs.map((job) => job.id)).toEqual(['build', 'lint']);
    jobs.reverse().pop();
    expect(jobsOf(file).map((job) => job.id)).toEqual(['build', 'lint']);

    const [build] = jobsOf(file);
    const buildSteps = build === undefined ? [] : stepsOfJob(build);
    expect(buildSteps.map((step) => step.index)).toEqual([0, 1]);
    buildSteps.length = 0;
    expect(build === undefined ? [] : stepsOfJob(build)).toHaveLength(2);

    const steps = stepsOf(file);
    expect(steps.map((step) => step.job?.id)).toEqual(['build', 'build', 'lint']);
    steps.splice(0);
    expect(stepsOf(file)).toHaveLength(3);

    const triggers = triggersOf(file);
    triggers.delete('push');
    expect([...triggersOf(file).keys()]).toEqual(['push', 'pull_request']);
  });

  it('keep files apart: another file with other content gets its own views', () => {
    const first = parseWorkflowFile('.github/workflows/a.yml', text, 'workflow');
    const second = parseWorkflowFile('.github/workflows/b.yml', text.replace('  lint:', '  test:'), 'workflow');
    expect(jobsOf(first).map((job) => job.id)).toEqual(['build', 'lint']);
    expect(jobsOf(second).map((job) => job.id)).toEqual(['build', 'test']);
    const action = parseWorkflowFile('.github/actions/setup/action.yml', 'runs:\n  using: composite\n  steps:\n    - run: make\n', 'action');
    expect(jobsOf(action)).toEqual([]);
    expect(stepsOf(action).map((step) => step.job)).toEqual([undefined]);
  });

  it('parse each action reference once and share it read-only', () => {
    const ref = parseActionRef('actions/cache/restore@v4');
    expect(ref).toEqual({ kind: 'remote', owner: 'actions', repo: 'cache', subPath: 'restore', ref: 'v4', raw: 'actions/cache/restore@v4' });
    expect(parseActionRef('actions/cache/restore@v4')).toBe(ref);
    expect(Object.isFrozen(ref)).toBe(true);
    expect(parseActionRef(' ./.github/actions/setup ')).toEqual({ kind: 'local', raw: './.github/actions/setup' });
    expect(parseActionRef('docker://alpine:3.20')).toEqual({ kind: 'docker', image: 'alpine:3.20', raw: 'docker://alpine:3.20' });
  });
});
