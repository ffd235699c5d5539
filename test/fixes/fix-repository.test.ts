import { repositoryFromFiles } from '../../src/analysis/discover';
import { allRules } from '../../src/analysis/rules';
import { fixRepository } from '../../src/fixes/fix-repository';

const CI = '.github/workflows/ci.yml';

function view(text: string) {
  return repositoryFromFiles(new Map([[CI, text]]));
}

describe('fixRepository', () => {
  it('adds a job timeout only when unsafe fixes are allowed', async () => {
    const text = ['on: push', 'jobs:', '  test:', '    runs-on: ubuntu-latest', '    steps:', '      - run: make test', ''].join('\n');
    const safeOnly = await fixRepository(view(text), { rules: allRules, ruleIds: ['missing-job-timeout'] });
    expect(safeOnly.files).toEqual([]);
    expect(safeOnly.diff).toBe('');
    const outcome = await fixRepository(view(text), { rules: allRules, ruleIds: ['missing-job-timeout'], unsafe: true, settings: { jobTimeoutMinutes: 45 } });
    expect(outcome.files[0]?.after).toBe(
      ['on: push', 'jobs:', '  test:', '    runs-on: ubuntu-latest', '    timeout-minutes: 45', '    steps:', '      - run: make test', ''].join('\n'),
    );
    expect(outcome.applied.map(({ finding, safety }) => [finding.ruleId, safety])).toEqual([['missing-job-timeout', 'unsafe']]);
    expect(outcome.remaining.some((finding) => finding.ruleId === 'missing-job-timeout')).toBe(false);
    expect(outcome.diff).toContain('+    timeout-minutes: 45\n');
  });
});
