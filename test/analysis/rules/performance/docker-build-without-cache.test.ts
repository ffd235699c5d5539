import { dockerBuildWithoutCacheRule } from '../../../../src/analysis/rules/performance/docker-build-without-cache';
import { runRule } from '../../../support/analysis';

function workflow(buildInputs: string[], options: { on?: string; runsOn?: string } = {}): string {
  return [
    `on: ${options.on ?? 'pull_request'}`,
    'jobs:',
    '  image:',
    `    runs-on: ${options.runsOn ?? 'ubuntu-latest'}`,
    '    steps:',
    '      - uses: docker/setup-buildx-action@v3',
    '      - uses: docker/build-push-action@v6',
    '        with:',
    '          context: .',
    ...buildInputs.map((line) => `          ${line}`),
    '',
  ].join('\n');
}

describe('docker-build-without-cache', () => {
  it('reports a build without cache-from/cache-to at the uses value', () => {
    const findings = runRule(dockerBuildWithoutCacheRule, workflow(['load: true', 'tags: app:test']));
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 7, column: 15, endLine: 7, endColumn: 42 })]);
    expect(findings[0]?.message).toBe(
      '`docker/build-push-action` in job `image` builds without `cache-from`/`cache-to`, so every run rebuilds all layers',
    );
  });

  it('reports builds that explicitly do not push', () => {
    expect(runRule(dockerBuildWithoutCacheRule, workflow(['push: false'], { on: 'push' }))).toHaveLength(1);
  });

  it.each([
    ['a cache source', workflow(['cache-from: type=gha'])],
    ['a deliberate no-cache build', workflow(['no-cache: true'])],
    ['an image that is pushed', workflow(['push: true', 'tags: ghcr.io/o/app:latest'], { on: 'push' })],
    ['a push decided by an expression', workflow(["push: ${{ github.event_name != 'pull_request' }}"])],
    ['a manually triggered workflow', workflow([], { on: 'workflow_dispatch' })],
    ['a self-hosted runner', workflow([], { runsOn: '[self-hosted, linux]' })],
  ])('stays silent for %s', (_name, text) => {
    expect(runRule(dockerBuildWithoutCacheRule, text)).toEqual([]);
  });
});
