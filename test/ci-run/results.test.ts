/**
 * Reading act's JSON log into a job's runs, on log lines shaped as act v0.2.89 writes them (taken from real runs):
 * a job's own runs, and for a job calling reusable workflows the called jobs' runs, which act logs under their own
 * job ids and names `<caller>/<called workflow>/<job>`.
 */
import { parseActLog } from '../../src/ci-run/results';

interface LineFields {
  job: string;
  jobID: string;
  step?: string;
  stepid?: string;
  stepResult?: string;
  jobResult?: string;
  msg?: string;
  raw?: boolean;
}

/** One line of act's log: a step's start, output or result, or the run's result. */
function line(fields: LineFields): string {
  const { raw, stepid, ...rest } = fields;
  const stepKey = stepid?.startsWith('--') ? 'stepid' : 'stepID';
  return JSON.stringify({
    dryrun: false,
    level: 'info',
    matrix: {},
    msg: fields.msg ?? '',
    ...rest,
    ...(stepid === undefined ? {} : { [stepKey]: [stepid] }),
    ...(raw === true ? { raw_output: true } : {}),
  });
}

/** The lines of one run with one step ending as `outcome`, then the run's result. */
function runLines(job: string, jobID: string, step: string, outcome: 'success' | 'failure', output: string): string[] {
  return [
    line({ job, jobID, step: 'Set up job', stepid: '--setup-job', stepResult: 'success' }),
    line({ job, jobID, step, stepid: '0', msg: output, raw: true }),
    line({ job, jobID, step, stepid: '0', stepResult: outcome }),
    line({ job, jobID, jobResult: outcome }),
  ];
}

describe('parseActLog', () => {
  // `call` (a matrix of two, named "Caller ${{ matrix.who }}") needs `prepare` and calls "Reusable B", whose job
  // `nest` calls c.yml: act names the nested runs after `nest` only, so both matrix variants log `nest/c.yml/deep`.
  const log = [
    '{"level":"warning","msg":"Couldn\'t get a valid docker connection"}',
    line({ job: 'CI/prepare', jobID: 'prepare', msg: 'LocalRepositoryCache matched' }),
    ...runLines('CI/prepare', 'prepare', 'top-level step', 'success', 'top-level output\n'),
    line({ job: 'CI/Caller ${{ matrix.who }}', jobID: 'call', msg: 'a message of the calling job itself' }),
    ...runLines('Caller a-1/Reusable B/prepare', 'prepare', 'hello', 'success', 'hello a\n'),
    ...runLines('Caller b-2/Reusable B/prepare', 'prepare', 'hello', 'success', 'hello b\n'),
    ...runLines('nest/c.yml/deep', 'deep', 'deep step', 'success', 'deep 1\n'),
    ...runLines('nest/c.yml/deep', 'deep', 'deep step', 'failure', 'deep 2\n'),
    // Another top-level job calling the same workflow, which act ran too: not `call`'s.
    ...runLines('other/Reusable B/prepare', 'prepare', 'hello', 'failure', 'other\n'),
  ].join('\n');
  const calls = [{ callerName: 'Caller ${{ matrix.who }}', workflowName: 'Reusable B' }, { callerName: 'nest', workflowName: 'c.yml' }];

  it('reads a job\'s own runs by its id, leaving out the jobs it needs', () => {
    const ownLog = [...runLines('CI/setup', 'setup', 'needed step', 'success', 'needed\n'), ...runLines('CI/build-1', 'build', 'make', 'failure', 'made\n')].join('\n');
    const runs = parseActLog(ownLog, { jobId: 'build' });
    expect(runs.map((run) => [run.jobId, run.runName, run.outcome])).toEqual([['build', 'CI/build-1', 'failure']]);
    expect(runs[0]?.steps.map((step) => [step.stepId, step.name, step.outcome, step.logExcerpt])).toEqual([
      ['--setup-job', 'Set up job', 'success', ''],
      ['0', 'make', 'failure', 'made\n'],
    ]);
  });

  it('reads the called jobs\' runs as a calling job\'s, by the names act gives them, leaving out the jobs it needs and other callers', () => {
    const runs = parseActLog(log, { jobId: 'call', calls });
    expect(runs.map((run) => [run.jobId, run.runName, run.outcome])).toEqual([
      ['call', 'Caller a-1/Reusable B/prepare', 'success'],
      ['call', 'Caller b-2/Reusable B/prepare', 'success'],
      // The second run of the name failed: the run fails, and its step with it.
      ['call', 'nest/c.yml/deep', 'failure'],
    ]);
    expect(runs[2]?.steps.find((step) => step.stepId === '0')).toMatchObject({ outcome: 'failure', logExcerpt: 'deep 1\ndeep 2\n' });
  });

  it('finds no run of a calling job whose called jobs act never started', () => {
    expect(parseActLog(log, { jobId: 'call', calls: [{ callerName: 'call', workflowName: 'Reusable B' }] })).toEqual([]);
  });
});
