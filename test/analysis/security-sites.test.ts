import { parseWorkflowFile } from '../../src/analysis/parse';
import { jobsOf, mapGet, stepsOf } from '../../src/analysis/rule';
import { actionName, booleanValue, containersOf, majorVersion, usesOf } from '../../src/analysis/security-sites';

const text = [
  'on: push',
  'jobs:',
  '  build:',
  '    runs-on: ubuntu-latest',
  '    container: node:20',
  '    services:',
  '      db:',
  '        image: postgres:16',
  '    steps:',
  '      - uses: actions/checkout@v4.2.1',
  '      - uses: actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2',
  "      - uses: 'actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd' # ratchet:actions/checkout@v5",
  '      - uses: actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd',
  '      - uses: actions/checkout@main',
  '      - uses: Gradle/Actions/setup-gradle@v4',
  '        with:',
  "          cache-disabled: 'TRUE'",
  '          other: ${{ inputs.cache }}',
  '          plain: yes',
  '',
].join('\n');

describe('security-sites', () => {
  const file = parseWorkflowFile('.github/workflows/ci.yml', text, 'workflow');
  const sites = stepsOf(file).map((step) => usesOf(step.node));

  it('reads the major version from the ref or from the pin comment', () => {
    expect(sites.map((site) => (site ? majorVersion(file, site) : 'none'))).toEqual([4, 6, 5, undefined, undefined, 4]);
  });

  it('names remote actions in lower case with their sub-path', () => {
    expect(sites[5] && actionName(sites[5].ref)).toBe('gradle/actions/setup-gradle');
  });

  it('reads boolean inputs as GitHub does and flags expressions', () => {
    const inputs = mapGet(stepsOf(file)[5]?.node, 'with');
    expect(['cache-disabled', 'other', 'plain', 'missing'].map((name) => booleanValue(mapGet(inputs, name)))).toEqual([
      true,
      'expression',
      undefined,
      undefined,
    ]);
  });

  it('lists the job container and services', () => {
    const [job] = jobsOf(file);
    expect(job && containersOf(job).map((site) => [site.kind, site.name])).toEqual([
      ['container', 'container'],
      ['service', 'db'],
    ]);
  });
});
