import { unpinnedImageRule } from '../../../../src/analysis/rules/security/unpinned-image';
import { runRule } from '../../../support/analysis';

const digest = 'sha256:1bf97f21f01b0e7bd4b7b34a26d3b9d8086e41e70c10f262e8a9e0b49b5116a0';

function job(lines: string[]): string {
  return ['on: push', 'jobs:', '  test:', '    runs-on: ubuntu-latest', ...lines, '    steps:', '      - run: make test', ''].join('\n');
}

describe('unpinned-image', () => {
  it('reports a service image tagged latest at the image value', () => {
    const findings = runRule(unpinnedImageRule, job(['    services:', '      redis:', '        image: redis:latest']));
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'high', line: 7, column: 16, endLine: 7, endColumn: 28 }),
    ]);
    expect(findings[0]?.message).toContain('service `redis` of job `test`');
  });

  it('grades untagged, channel-tagged and version-tagged images', () => {
    const findings = runRule(
      unpinnedImageRule,
      job([
        '    container: quay.io/pypa/manylinux_2_28_i686',
        '    services:',
        '      a:',
        '        image: localhost:5000/rust:alpine',
        '      b:',
        '        image: postgres:16.4',
        '      c:',
        `        image: postgres:16.4@${digest}`,
      ]),
    );
    expect(findings.map((f) => [f.line, f.severity])).toEqual([
      [5, 'high'],
      [8, 'medium'],
      [10, 'low'],
    ]);
    expect(findings[0]?.message).toContain('has no tag');
  });

  it('reports docker:// steps and Docker actions', () => {
    const workflow = runRule(
      unpinnedImageRule,
      ['on: push', 'jobs:', '  lint:', '    runs-on: ubuntu-latest', '    steps:', '      - uses: docker://bitnami/git', ''].join('\n'),
    );
    expect(workflow).toEqual([expect.objectContaining({ severity: 'high', line: 6, column: 15, endColumn: 35 })]);
    const action = runRule(unpinnedImageRule, ['name: lint', 'runs:', '  using: docker', "  image: 'docker://alpine:latest'", ''].join('\n'), {
      path: '.github/actions/lint/action.yml',
    });
    expect(action).toEqual([expect.objectContaining({ severity: 'high', line: 4, column: 10, endColumn: 34 })]);
  });

  it('stays silent on digests, expressions, Dockerfile actions and non-container image keys', () => {
    expect(
      runRule(
        unpinnedImageRule,
        job([
          '    strategy:',
          '      matrix:',
          '        image: [ubuntu]',
          '    container:',
          '      image: ${{ matrix.image }}',
          '    services:',
          '      db:',
          `        image: postgres@${digest}`,
        ]),
      ),
    ).toEqual([]);
    expect(
      runRule(unpinnedImageRule, ['name: lint', 'runs:', '  using: docker', "  image: 'Dockerfile'", ''].join('\n'), {
        path: '.github/actions/lint/action.yml',
      }),
    ).toEqual([]);
  });
});
