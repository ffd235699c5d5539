import { isScalar, type Scalar } from 'yaml';
import { replaceActionRef } from '../../edit/action-ref-edits';
import { isUnfixable } from '../../edit/yaml-edits';
import { type ActionVersion, formatVersion, type RetiredActionVersion, retiredActionVersion, usedActionVersion } from '../../knowledge/action-versions';
import { type FixPlan, mapGet, parseActionRef, type Rule, stepsOf } from '../../rule';

/**
 * Safe for drop-in upgrades (actions/cache), unsafe where the new major changes behaviour (artifacts v4 are
 * immutable and cannot read v3 uploads). A commit-SHA pin is left to the pinning fix, which resolves commits.
 */
function upgrade(uses: Scalar, action: string, version: ActionVersion, retired: RetiredActionVersion): { fix: FixPlan } | { unfixable: string } {
  if (version.source === 'comment') {
    return { unfixable: `\`${action}\` is pinned to a commit SHA; re-pin it to the commit of ${retired.replacementRef} (the pinning fix resolves commits)` };
  }
  return {
    fix: {
      safety: retired.breakingUpgrade ? 'unsafe' : 'safe',
      title: `Upgrade \`${action}\` from ${formatVersion(version)} to ${retired.replacementRef}`,
      edits: ({ file }) => {
        const edit = replaceActionRef(file, uses, retired.replacementRef);
        return isUnfixable(edit) ? edit : [edit];
      },
    },
  };
}

export const retiredActionVersionRule: Rule = {
  id: 'retired-action-version',
  category: 'compatibility',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description:
    'Finds versions of GitHub actions whose backing service GitHub has shut down: `actions/upload-artifact` and ' +
    '`actions/download-artifact` v1-v3, `actions/upload-pages-artifact` v1-v2 and `actions/cache` before v3.4 / v4.2.',
  rationale:
    'These versions talk to services GitHub has switched off (the v3 artifact service on 2025-01-30, the legacy ' +
    'cache service on 2025-03-01). A step using them no longer works at all: the job fails at that step, or a cache ' +
    'step errors on every run. Commit-SHA pins are checked through their version comment (`@<sha> # v3.1.2`).',
  remediation:
    'Upgrade to the current major version. `actions/cache@v4` is a drop-in replacement. Artifacts v4 are immutable: ' +
    'each upload needs a name that is unique in the run (add the matrix values to the name and combine them with ' +
    '`actions/upload-artifact/merge@v4` if needed), and `download-artifact@v4` cannot read artifacts uploaded by v3, ' +
    'so upgrade the uploading and downloading sides together.',
  examples: {
    bad: [
      'name: Build',
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make dist',
      '      - uses: actions/upload-artifact@v3',
      '        with:',
      '          name: dist',
      '          path: dist/',
      '',
    ].join('\n'),
    good: [
      'name: Build',
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make dist',
      '      - uses: actions/upload-artifact@v4',
      '        with:',
      '          name: dist',
      '          path: dist/',
      '',
    ].join('\n'),
  },
  fixes: {
    safety: 'unsafe',
    description:
      'Replaces the ref with the replacement\'s major version tag, keeping quotes and comments. Safe for ' +
      '`actions/cache` (a drop-in upgrade), unsafe for the artifact actions (immutable artifacts, v3 uploads unreadable, ' +
      'upload-pages-artifact@v3 needs deploy-pages@v4). Commit-SHA pins are left to the pinning fix.',
  },
  check(ctx) {
    for (const step of stepsOf(ctx.file)) {
      const uses = mapGet(step.node, 'uses');
      if (!isScalar(uses) || typeof uses.value !== 'string') continue;
      const ref = parseActionRef(uses.value);
      const version = usedActionVersion(ctx.file, uses, ref);
      const retired = version && retiredActionVersion(ref, version);
      if (!version || !retired) continue;
      const action = `${ref.owner ?? ''}/${ref.repo ?? ''}${ref.subPath ? `/${ref.subPath}` : ''}`;
      const written =
        version.source === 'comment' ? `\`${action}\` pinned at ${formatVersion(version)} (per its version comment)` : `\`${action}@${ref.ref ?? ''}\``;
      ctx.report({
        node: uses,
        // A version comment can be stale; the tag itself cannot.
        confidence: version.source === 'comment' ? 'medium' : 'high',
        message: `${written} no longer works since ${retired.retired}: ${retired.reason}.`,
        remediation: `Upgrade \`${action}\` to ${retired.replacement}.${retired.breakingUpgrade ? ' Check the upgrade notes: the new major version changes behaviour.' : ''}`,
        ...upgrade(uses, action, version, retired),
      });
    }
  },
};
