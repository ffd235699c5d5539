import { npmInstallInsteadOfCiRule } from '../../../../src/analysis/rules/performance/npm-install-instead-of-ci';
import { runRule } from '../../../support/analysis';

function workflow(stepLines: string[], jobLines: string[] = []): string {
  return ['on: pull_request', 'jobs:', '  test:', '    runs-on: ubuntu-latest', ...jobLines, '    steps:', ...stepLines, ''].join('\n');
}

describe('npm-install-instead-of-ci', () => {
  it('reports `npm install` inside a script at the command', () => {
    const text = workflow(['      - run: |', '          node --version', '          npm install --no-audit', '          npm test']);
    const findings = runRule(npmInstallInsteadOfCiRule, text, { existingFiles: ['package-lock.json'] });
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 8, column: 11, endLine: 8, endColumn: 33 })]);
    expect(findings[0]?.message).toBe(
      '`npm install --no-audit` re-resolves dependencies although `package-lock.json` pins them; `npm ci` installs from the lockfile directly',
    );
  });

  it('follows working-directory from the step and from job defaults', () => {
    const existingFiles = ['web/package-lock.json'];
    const stepDirectory = workflow(['      - run: npm i', '        working-directory: ./web/']);
    const jobDirectory = workflow(['      - run: npm i'], ['    defaults:', '      run:', '        working-directory: web']);
    expect(runRule(npmInstallInsteadOfCiRule, stepDirectory, { existingFiles })).toHaveLength(1);
    expect(runRule(npmInstallInsteadOfCiRule, jobDirectory, { existingFiles })).toHaveLength(1);
    expect(runRule(npmInstallInsteadOfCiRule, workflow(['      - run: npm i']), { existingFiles })).toEqual([]);
  });

  it('reports composite actions too', () => {
    const action = 'runs:\n  using: composite\n  steps:\n    - run: npm install\n      shell: bash\n';
    const findings = runRule(npmInstallInsteadOfCiRule, action, { path: '.github/actions/setup/action.yml', existingFiles: ['package-lock.json'] });
    expect(findings.map((f) => [f.line, f.column])).toEqual([[4, 12]]);
  });

  it.each([
    ['a package argument', ['      - run: npm install left-pad']],
    ['a global install', ['      - run: npm install -g pnpm']],
    ['npm ci', ['      - run: npm ci']],
    ['npm install-test', ['      - run: npm install-test']],
    ['a cd before the install', ['      - run: cd web && npm install']],
    ['a working directory given by an expression', ['      - run: npm install', '        working-directory: ${{ matrix.dir }}']],
    ['a job that updates the lockfile', ['      - run: npm install', '      - run: npm audit fix']],
    ['a job that opens a pull request', ['      - run: npm install', '      - uses: peter-evans/create-pull-request@v7']],
  ])('stays silent for %s', (_name, steps) => {
    expect(runRule(npmInstallInsteadOfCiRule, workflow(steps), { existingFiles: ['package-lock.json'] })).toEqual([]);
  });

  it('does not guess when the repository view knows no lockfile', () => {
    expect(runRule(npmInstallInsteadOfCiRule, workflow(['      - run: npm install']))).toEqual([]);
  });
});
