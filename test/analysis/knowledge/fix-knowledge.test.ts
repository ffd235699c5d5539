/** The facts the automatic fixes write into workflows: upgrade refs, successor labels, cache prerequisites. */
import { firstSupportedMajor, retiredActionVersion, retiredActionVersions } from '../../../src/analysis/knowledge/action-versions';
import { setupActionCaching } from '../../../src/analysis/knowledge/dependency-caching';
import { githubHostedRunnerLabels, retiredRunnerLabels } from '../../../src/analysis/knowledge/runner-labels';
import { parseActionRef } from '../../../src/analysis/rule';

describe('knowledge the fixes write', () => {
  it('upgrades retired action versions to a major tag past the retired range; only actions/cache is drop-in', () => {
    for (const entry of retiredActionVersions) {
      expect(entry.replacementRef).toMatch(/^v\d+$/);
      expect(entry.isRetired({ major: Number(entry.replacementRef.slice(1)), source: 'ref' })).toBe(false);
    }
    expect(retiredActionVersions.filter((entry) => !entry.breakingUpgrade).map((entry) => entry.action)).toEqual(['actions/cache']);
    expect(retiredActionVersion(parseActionRef('actions/upload-artifact@v3'), { major: 3, source: 'ref' })?.replacementRef).toBe('v4');
  });

  it('knows the first major version on a supported runtime', () => {
    expect(firstSupportedMajor(parseActionRef('actions/checkout@v2'))).toBe(4);
    expect(firstSupportedMajor(parseActionRef('actions/setup-python@v4'))).toBe(5);
    expect(firstSupportedMajor(parseActionRef('github/codeql-action/init@v2'))).toBe(3);
    expect(firstSupportedMajor(parseActionRef('someone/unknown@v1'))).toBeUndefined();
  });

  it('replaces every retired runner label with a label GitHub hosts today', () => {
    for (const [label, { replacement }] of retiredRunnerLabels) {
      expect([label, githubHostedRunnerLabels.has(replacement)]).toEqual([label, true]);
    }
  });

  it('names what must run before setup actions whose cache lookup needs a tool', () => {
    const managers = setupActionCaching.flatMap((setup) => setup.packageManagers);
    const pnpm = managers.find((manager) => manager.cacheValue === 'pnpm');
    expect(pnpm?.prerequisite?.commands.test('corepack enable')).toBe(true);
    expect(pnpm?.prerequisite?.actions).toContain('pnpm/action-setup');
    const poetry = managers.find((manager) => manager.cacheValue === 'poetry');
    expect(poetry?.prerequisite?.commands.test('pipx install poetry==1.8.3')).toBe(true);
    expect(managers.filter((manager) => manager.sideEffect !== undefined).map((manager) => manager.lockfiles[0])).toEqual(['Gemfile.lock']);
  });
});
