import { isScalar, type Scalar } from 'yaml';
import { replaceActionRef } from '../../edit/action-ref-edits';
import { isUnfixable } from '../../edit/yaml-edits';
import {
  type ActionVersion,
  actionRuntime,
  firstSupportedMajor,
  removedNodeRuntimes,
  retiredActionVersion,
  usedActionVersion,
} from '../../knowledge/action-versions';
import { type FixPlan, mapGet, parseActionRef, rootMap, type Rule, type RuleContext, scalarText, stepsOf } from '../../rule';

/**
 * Unsafe: a new major version may rename or drop inputs and change defaults. Only to the first major on a supported
 * runtime (the smallest step that ends the forced runtime); SHA pins are left to the pinning fix.
 */
function upgrade(uses: Scalar, action: string, version: ActionVersion, supported: number | undefined): { fix: FixPlan } | { unfixable: string } {
  if (supported === undefined) return { unfixable: `no major version of \`${action}\` on a supported runtime is known` };
  if (version.source === 'comment') {
    return { unfixable: `\`${action}\` is pinned to a commit SHA; re-pin it to the commit of v${supported} (the pinning fix resolves commits)` };
  }
  return {
    fix: {
      safety: 'unsafe',
      title: `Upgrade \`${action}\` from v${version.major} to v${supported}`,
      edits: ({ file }) => {
        const edit = replaceActionRef(file, uses, `v${supported}`);
        return isUnfixable(edit) ? edit : [edit];
      },
    },
  };
}

/** Node 12 was removed two years before Node 16, so actions on it are the likeliest to break on a forced runtime. */
function severityOf(runtime: string): 'high' | 'medium' {
  return runtime === 'node12' ? 'high' : 'medium';
}

/** An action.yml of this repository that declares a removed runtime itself. */
function checkOwnRuntime(ctx: RuleContext): void {
  const using = mapGet(mapGet(rootMap(ctx.file), 'runs'), 'using');
  const runtime = scalarText(using)?.toLowerCase();
  if (!using || !runtime || !removedNodeRuntimes.has(runtime)) return;
  ctx.report({
    node: using,
    severity: severityOf(runtime),
    message: `This action declares \`runs.using: ${runtime}\`, a Node.js runtime GitHub has removed from its runners.`,
    remediation: 'Set `runs.using: node24`, update the action\'s dependencies for Node.js 24 and rebuild its bundled JavaScript.',
    unfixable: 'the action\'s own JavaScript must be rebuilt and tested for the new runtime',
  });
}

export const outdatedActionRuntimeRule: Rule = {
  id: 'outdated-action-runtime',
  category: 'compatibility',
  severity: 'medium',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description:
    'Finds popular actions used at a major version that runs on Node.js 12 or 16, and actions of the repository that ' +
    'declare `runs.using: node12` or `node16`.',
  rationale:
    'GitHub removed Node.js 12 and 16 from its runners. Actions that still declare them are forced onto a newer ' +
    'Node.js, which prints a deprecation warning on every run and can break the action in ways its authors never ' +
    'tested. Newer major versions of the same actions run on a supported runtime. Versions that no longer work at ' +
    'all are reported by `retired-action-version` instead.',
  remediation:
    'Upgrade the action to its first major version on a supported runtime (e.g. `actions/checkout@v4` or later) and ' +
    'read its release notes for changed inputs.',
  examples: {
    bad: [
      'name: Test',
      'on: push',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - uses: actions/checkout@v3',
      '      - run: make test',
      '',
    ].join('\n'),
    good: [
      'name: Test',
      'on: push',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - uses: actions/checkout@v5',
      '      - run: make test',
      '',
    ].join('\n'),
  },
  fixes: {
    safety: 'unsafe',
    description:
      'Moves the action to the first major version on a supported runtime (from src/analysis/knowledge/action-versions.ts), ' +
      'keeping quotes and comments. Unsafe: new majors may change inputs and defaults. Commit-SHA pins and the ' +
      'repository\'s own actions are left to a reader.',
  },
  check(ctx) {
    if (ctx.file.kind === 'action') checkOwnRuntime(ctx);
    for (const step of stepsOf(ctx.file)) {
      const uses = mapGet(step.node, 'uses');
      if (!isScalar(uses) || typeof uses.value !== 'string') continue;
      const ref = parseActionRef(uses.value);
      const version = usedActionVersion(ctx.file, uses, ref);
      const runtime = version && actionRuntime(ref, version);
      if (!version || !runtime || !removedNodeRuntimes.has(runtime) || retiredActionVersion(ref, version)) continue;
      const action = `${ref.owner ?? ''}/${ref.repo ?? ''}`;
      const supported = firstSupportedMajor(ref);
      ctx.report({
        node: uses,
        severity: severityOf(runtime),
        confidence: version.source === 'comment' ? 'medium' : 'high',
        message: `\`${action}\` v${version.major} runs on ${runtime}, a Node.js runtime GitHub has removed from its runners.`,
        ...(supported !== undefined
          ? { remediation: `Upgrade \`${action}\` to v${supported} or later and read its release notes for changed inputs.` }
          : {}),
        ...upgrade(uses, action, version, supported),
      });
    }
  },
};
