/**
 * The policy schema that both POST /api/v1/policies and AGENT_POLICY_FILE use: schedules (cron field by field,
 * intervals), quiet windows, rules (known and fixable), selectors and labels, with the sentences people read;
 * and the YAML loader, which names the file, the line and the field of the first problem.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { policySpecSchema } from '../../src/agent/policy';
import { PolicyFileError, readPolicyFile } from '../../src/agent/policy-file';
import { cronProblem, intervalSeconds } from '../../src/agent/schedule-spec';
import { labelKeyProblem, selectTargets } from '../../src/agent/target-selection';

const VALID = { name: 'hygiene', targets: 'all', schedule: { cron: '0 3 * * mon' }, rules: ['missing-job-timeout'] };

function firstIssue(input: object): string {
  const result = policySpecSchema.safeParse(input);
  if (result.success) return 'accepted';
  const issue = result.error.issues[0];
  return `${(issue?.path ?? []).join('.')}: ${issue?.message ?? ''}`;
}

describe('cron expressions', () => {
  test.each([
    ['0 3 * * mon', undefined],
    ['*/15 9-17 * * 1-5', undefined],
    ['0 0 1,15 jan-jun *', undefined],
    ['@daily', undefined],
    ['0 3 * *', 'has 4 field(s)'],
    ['0 3 * * * *', 'has 6 field(s)'],
    ['60 3 * * *', 'the minute field has "60", which is not a value from 0 to 59'],
    ['0 24 * * *', 'the hour field has "24"'],
    ['0 3 0 * *', 'the day-of-month field has "0"'],
    ['0 3 * 13 *', 'the month field has "13"'],
    ['0 3 * * 7', 'the day-of-week field has "7"'],
    ['0 3 * * funday', 'the day-of-week field has "funday"'],
    ['0 17-9 * * *', 'runs backwards'],
    ['*/0 * * * *', 'step must be one number from 1 to 99'],
    ['@sometimes', 'is not a cron macro'],
    ['0 3 * * mon; rm -rf /', 'has 8 field(s)'],
    ['0 3 * * mon;rm', 'the day-of-week field has "mon;rm"'],
  ])('%s', (cron, problem) => {
    if (problem === undefined) expect(cronProblem(cron)).toBeUndefined();
    else expect(cronProblem(cron)).toContain(problem);
  });
});

describe('intervals', () => {
  test.each([
    ['6h', 21_600],
    ['30m', 1_800],
    ['1d12h', 129_600],
    ['90s', 90],
    ['6 hours', undefined],
    ['-1h', undefined],
    ['', undefined],
    ['1h1', undefined],
  ])('%s', (text, seconds) => expect(intervalSeconds(text)).toBe(seconds));
});

describe('the policy schema', () => {
  test('defaults', () => {
    expect(policySpecSchema.parse(VALID)).toMatchObject({ unsafe: false, minSeverity: 'low', grouping: 'per-rule', maxOpenPatches: 5, quietWindows: [], approval: {}, rollout: { waves: [{ percent: 10 }, { percent: 50 }, { percent: 100 }] } });
  });

  test.each([
    ['a name that is not a DNS label', { name: 'My Policy' }, 'name: must be 1 to 63 lowercase letters'],
    ['cron and interval', { schedule: { cron: '@daily', interval: '6h' } }, 'schedule: must give either cron'],
    ['no schedule', { schedule: {} }, 'schedule: must give either cron'],
    ['a bad cron', { schedule: { cron: '0 25 * * *' } }, 'schedule.cron: the hour field has "25"'],
    ['a too short interval', { schedule: { interval: '30s' } }, 'schedule.interval: must be at least 1 minute'],
    ['an unknown rule', { rules: ['no-such-rule'] }, 'rules.0: is not a rule of the analyzer'],
    ['a rule without a fix', { rules: ['hardcoded-credentials'] }, 'rules.0: is a rule without an automatic fix'],
    ['a rule twice', { rules: ['missing-job-timeout', 'missing-job-timeout'] }, 'rules: must not name a rule twice'],
    ['an unknown severity', { minSeverity: 'urgent' }, 'minSeverity: must be one of critical'],
    ['windows covering the whole week', { quietWindows: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], start: '00:00', end: '24:00' }] }, 'quietWindows: the quiet windows cover the whole week'],
    ['a window on a bad day', { quietWindows: [{ days: ['funday'], start: '00:00', end: '24:00' }] }, 'quietWindows.0.days.0: must be days of the week'],
    ['a window at 25:00', { quietWindows: [{ days: ['sat'], start: '25:00', end: '26:00' }] }, 'quietWindows.0.start: must be a UTC time of day "HH:MM"'],
    ['an approval minimum of 0', { approval: { minimumRisky: 0 } }, 'approval.minimumRisky'],
    ['a selector of nothing', { targets: {} }, 'targets: must name a nameGlob, labels or both'],
    ['a selector with a bad label key', { targets: { labels: { 'bad key': 'x' } } }, 'targets.labels.bad key: the label key "bad key"'],
    ['a bad rollout', { rollout: { waves: [{ percent: 50 }] } }, 'rollout.waves: the last wave must be at 100 percent'],
    ['a revert parallelism above 64', { rollout: { revertParallelism: 65 } }, 'rollout.revertParallelism'],
    ['an unknown field', { autoApprove: true }, ''],
  ])('refuses %s', (_name, change, expected) => {
    const issue = firstIssue({ ...VALID, ...change });
    expect(issue).not.toBe('accepted');
    expect(issue).toContain(expected);
  });

  test('a whole-day weekend window and a risky minimum are accepted', () => {
    expect(firstIssue({ ...VALID, quietWindows: [{ days: ['sat', 'sun'], start: '00:00', end: '24:00' }], approval: { minimumSafe: 1, minimumRisky: 2, distinctGroups: true } })).toBe('accepted');
  });
});

describe('labels and selectors', () => {
  test.each([
    ['team', undefined],
    ['example.com/tier', undefined],
    ['a'.repeat(63), undefined],
    ['a'.repeat(64), 'at most 63'],
    ['-team', 'starting and ending'],
    ['Example.com/tier', 'prefix that is not a DNS subdomain'],
    ['/tier', 'prefix that is not a DNS subdomain'],
    ['team\u0000', 'at most 63'],
  ])('key %j', (key, problem) => {
    if (problem === undefined) expect(labelKeyProblem(key)).toBeUndefined();
    else expect(labelKeyProblem(key)).toContain(problem);
  });

  test('selectors match the name glob and every label', () => {
    const targets: Array<{ name: string; labels?: Record<string, string> }> = [
      { name: 'payments/api', labels: { team: 'payments', tier: '1' } },
      { name: 'payments/web', labels: { team: 'payments' } },
      { name: 'search/api', labels: { team: 'search', tier: '1' } },
      { name: 'legacy/app' },
    ];
    const names = (selector: Parameters<typeof selectTargets>[1]) => selectTargets(targets, selector).map((target) => target.name);
    expect(names('all')).toHaveLength(4);
    expect(names({ nameGlob: 'payments/*' })).toEqual(['payments/api', 'payments/web']);
    expect(names({ labels: { tier: '1' } })).toEqual(['payments/api', 'search/api']);
    expect(names({ nameGlob: '*/api', labels: { team: 'payments' } })).toEqual(['payments/api']);
    expect(names({ labels: { team: '' } })).toEqual([]);
  });
});

describe('the policy file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wpa-policy-file-'));
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  test('one policy, a list, `policies:` and several documents', async () => {
    const one = write('one.yml', 'name: one\ntargets: all\nschedule: { interval: 6h }\nrules: [missing-job-timeout]\n');
    expect((await readPolicyFile(one)).map((spec) => spec.name)).toEqual(['one']);
    const listed = write('listed.yml', 'policies:\n  - name: a\n    targets: all\n    schedule: { cron: "0 3 * * *" }\n    rules: [missing-job-timeout]\n  - name: b\n    targets: { labels: { team: payments } }\n    schedule: { interval: 1d }\n    rules: [checkout-persisted-credentials]\n');
    expect((await readPolicyFile(listed)).map((spec) => spec.name)).toEqual(['a', 'b']);
    const documents = write('documents.yml', 'name: x\ntargets: all\nschedule: { interval: 6h }\nrules: [missing-job-timeout]\n---\n- name: y\n  targets: all\n  schedule: { interval: 6h }\n  rules: [missing-job-timeout]\n');
    expect((await readPolicyFile(documents)).map((spec) => spec.name)).toEqual(['x', 'y']);
  });

  test.each([
    ['a bad cron names its line and field', 'policies:\n  - name: a\n    targets: all\n    schedule:\n      cron: "0 25 * * *"\n    rules: [missing-job-timeout]\n', 'line 5: policies.0.schedule.cron: the hour field has "25"'],
    ['an unknown rule names its line', 'name: a\ntargets: all\nschedule: { interval: 6h }\nrules:\n  - missing-job-timeout\n  - no-such-rule\n', 'line 6: rules.1: is not a rule of the analyzer'],
    ['a missing field names the policy', 'name: a\ntargets: all\nrules: [missing-job-timeout]\n', 'line 1: schedule:'],
    ['broken YAML', 'name: a\n  targets: [all\n', 'not valid YAML'],
    ['a name used twice', 'policies:\n  - { name: a, targets: all, schedule: { interval: 6h }, rules: [missing-job-timeout] }\n  - { name: a, targets: all, schedule: { interval: 1h }, rules: [missing-job-timeout] }\n', 'the policy name a is used twice'],
    ['an empty file', '', 'holds no policy'],
  ])('%s', async (_name, text, expected) => {
    const file = write(`bad-${Math.random().toString(36).slice(2)}.yml`, text);
    const error = await readPolicyFile(file).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(PolicyFileError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(expected);
  });

  test('a file that cannot be read says so', async () => {
    await expect(readPolicyFile(path.join(dir, 'missing.yml'))).rejects.toThrow(/cannot be read/);
  });
});
