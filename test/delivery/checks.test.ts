import { judgeChecks, wantedNames } from '../../src/delivery/checks';
import type { CheckState, CommitCheck } from '../../src/forges/forge';

const check = (name: string, state: CheckState, source: CommitCheck['source'] = 'status'): CommitCheck => ({ name, state, source, description: '', url: null });

describe('wantedNames', () => {
  it('takes named checks as given', () => {
    expect(wantedNames(['ci/test'], ['other'], [check('x', 'success')])).toEqual(['ci/test']);
  });
  it('reads all-required from branch protection, else every reported check', () => {
    expect(wantedNames('all-required', ['ci/test', 'lint'], [])).toEqual(['ci/test', 'lint']);
    expect(wantedNames('all-required', [], [check('b', 'success'), check('a', 'pending'), check('a', 'success', 'check-run')])).toEqual(['a', 'b']);
    expect(wantedNames('all-required', undefined, [check('a', 'success')])).toEqual(['a']);
  });
  it('expands the glob patterns Gitea requires into the reported checks they match, or keeps them pending', () => {
    const reported = [check('ci/test', 'success'), check('ci/lint/go', 'pending'), check('deploy', 'success')];
    expect(wantedNames('all-required', ['ci/*', 'sign-off'], reported)).toEqual(['ci/lint/go', 'ci/test', 'sign-off']);
    expect(wantedNames('all-required', ['*'], reported)).toEqual(['ci/lint/go', 'ci/test', 'deploy']);
    expect(wantedNames('all-required', ['*'], [])).toEqual(['*']);
    expect(judgeChecks(wantedNames('all-required', ['*'], []), [], []).state).toBe('pending');
  });
});

describe('judgeChecks', () => {
  it('passes when every wanted check succeeded', () => {
    const verdict = judgeChecks(['ci/test', 'lint'], [check('ci/test', 'success'), check('lint', 'success'), check('other', 'failure')], []);
    expect(verdict).toMatchObject({ state: 'success', passed: ['ci/test', 'lint'], failing: [], summary: 'passed: ci/test, lint' });
  });

  it('waits for a check not reported yet or still running', () => {
    expect(judgeChecks(['ci/test', 'lint'], [check('ci/test', 'success'), check('lint', 'pending')], []).state).toBe('pending');
    expect(judgeChecks(['ci/test'], [], []).pending).toEqual(['ci/test']);
  });

  it('treats no wanted checks at all as pending: nothing reported is not a success', () => {
    expect(judgeChecks([], [], [])).toMatchObject({ state: 'pending', summary: 'no checks reported yet' });
  });

  it('fails on a new failure, even while others are pending', () => {
    const verdict = judgeChecks(['ci/test', 'lint'], [check('ci/test', 'failure'), check('lint', 'pending')], [check('ci/test', 'success')]);
    expect(verdict).toMatchObject({ state: 'failure', failing: ['ci/test'], pending: ['lint'] });
  });

  it('does not block on a check that already failed before the patch, and says so', () => {
    const verdict = judgeChecks(['ci/test', 'lint'], [check('ci/test', 'success'), check('lint', 'failure')], [check('lint', 'failure')]);
    expect(verdict.state).toBe('success');
    expect(verdict.alreadyFailing).toEqual(['lint']);
    expect(verdict.summary).toBe('passed: ci/test; already failing before the patch, not blocking: lint');
  });

  it('fails a name when its status and its check run disagree and either failed', () => {
    expect(judgeChecks(['build'], [check('build', 'success', 'check-run'), check('build', 'failure')], []).state).toBe('failure');
    expect(judgeChecks(['build'], [check('build', 'success', 'check-run'), check('build', 'pending')], []).state).toBe('pending');
  });
});
