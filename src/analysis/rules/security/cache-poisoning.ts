import { isMap, type Node } from 'yaml';
import { cacheRestoringActions } from '../../knowledge/dependency-caching';
import {
  artifactPublishingActions,
  goreleaserAction,
  imagePushingActions,
  publishingCommandIn,
  rehearsalFlags,
} from '../../knowledge/publishing';
import {
  jobsOf,
  mapGet,
  mapPair,
  type Rule,
  scalarText,
  stepsOfJob,
  type StepView,
  triggersOf,
  type WorkflowFile,
} from '../../rule';
import { actionName, booleanValue, hasExpression, majorVersion, usesOf, withInput } from '../../security-sites';

export const cachePoisoningRule: Rule = {
  id: 'cache-poisoning',
  category: 'security',
  severity: 'high',
  confidence: 'low',
  appliesTo: ['workflow'],
  description: 'Build caches restored in jobs that publish releases, packages or images.',
  rationale:
    'GitHub Actions caches are shared across workflow runs of a repository: an attacker who can run code in any ' +
    'workflow with access to the default branch\'s cache scope (for example through a `pull_request_target` ' +
    'injection or a compromised build dependency) can plant a cache entry that a later release job restores. The ' +
    'poisoned dependencies or toolchain then end up inside the artifacts you sign and publish. Release jobs should ' +
    'build from a clean state. A job counts as publishing when its workflow runs only for releases or tag pushes ' +
    '(optionally also `workflow_dispatch`), or when the job itself publishes (a known publishing action, or ' +
    '`npm publish`, `twine upload`, `cargo publish`, `docker push`, `gh release create` and similar in a script); ' +
    'in the latter case only caches restored before the publishing step count. Cache toggles set by expressions ' +
    'are not evaluated and not reported. Confidence is low because the real risk depends on who can write to the ' +
    'cache.',
  remediation:
    'Disable caching in release and publishing jobs: remove `actions/cache`, drop the `cache:` input of setup-* ' +
    'actions, or set the action\'s opt-out (`enable-cache: false`, `cache: false`, `lookup-only: true`, ' +
    '`cache-disabled: true`).',
  examples: {
    bad: [
      'on:',
      '  push:',
      '    tags: ["v*"]',
      'jobs:',
      '  publish:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - uses: actions/setup-node@v4',
      '        with:',
      '          cache: npm',
      '      - run: npm ci && npm publish',
      '',
    ].join('\n'),
    good: [
      'on:',
      '  push:',
      '    tags: ["v*"]',
      'jobs:',
      '  publish:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - uses: actions/setup-node@v4',
      '      - run: npm ci && npm publish',
      '',
    ].join('\n'),
  },
  check(ctx) {
    const releaseTriggers = releaseOnlyTriggers(ctx.file);
    for (const job of jobsOf(ctx.file)) {
      const steps = stepsOfJob(job);
      const scope =
        releaseTriggers !== undefined ? { candidates: steps, reason: `runs only for ${releaseTriggers}` } : publishingScope(steps);
      if (!scope) continue;
      const { candidates, reason } = scope;
      for (const step of candidates) {
        const cache = cacheUse(ctx.file, step);
        if (!cache) continue;
        ctx.report({
          node: cache.node,
          message: `\`${cache.action}\` ${cache.how} in job \`${job.id}\`, which ${reason}; a poisoned cache entry would end up in what it releases`,
        });
      }
    }
  },
};

/** In a workflow that also runs for non-release events: the steps before the job's last publishing step. */
function publishingScope(steps: StepView[]): { candidates: StepView[]; reason: string } | undefined {
  for (let index = steps.length - 1; index >= 0; index--) {
    const step = steps[index];
    const publishes = step && publishingStep(step);
    if (publishes) return { candidates: steps.slice(0, index), reason: `publishes (${publishes})` };
  }
  return undefined;
}

/** Describes the workflow's triggers when every one of them is a release trigger (or manual), else undefined. */
function releaseOnlyTriggers(file: WorkflowFile): string | undefined {
  const releaseTriggers: string[] = [];
  for (const [name, { config }] of triggersOf(file)) {
    if (name === 'release') releaseTriggers.push('releases');
    else if (name === 'push' && isTagOnlyPush(config)) releaseTriggers.push('tag pushes');
    else if (name !== 'workflow_dispatch') return undefined;
  }
  return releaseTriggers.length > 0 ? releaseTriggers.join(' and ') : undefined;
}

/** A `push` filtered on tags only: GitHub then does not run it for branch pushes. */
function isTagOnlyPush(config: Node | null): boolean {
  if (!isMap(config)) return false;
  const filtersTags = mapPair(config, 'tags') !== undefined || mapPair(config, 'tags-ignore') !== undefined;
  const filtersBranches = mapPair(config, 'branches') !== undefined || mapPair(config, 'branches-ignore') !== undefined;
  return filtersTags && !filtersBranches;
}

/** What the step publishes, or undefined. */
function publishingStep(step: StepView): string | undefined {
  const uses = usesOf(step.node);
  const name = uses ? actionName(uses.ref) : undefined;
  if (name !== undefined) {
    if (artifactPublishingActions.has(name)) return `\`${name}\``;
    if (imagePushingActions.has(name) && booleanValue(withInput(step.node, 'push')) === true) return `\`${name}\` with \`push: true\``;
    if (name === goreleaserAction) {
      const args = scalarText(withInput(step.node, 'args')) ?? '';
      if (/\brelease\b/.test(args) && !rehearsalFlags.test(args)) return '`goreleaser release`';
    }
    return undefined;
  }
  return publishingCommandIn(scalarText(mapGet(step.node, 'run')) ?? '');
}

/** Whether the step restores a cache: the node that turns caching on and how, or undefined. */
function cacheUse(file: WorkflowFile, step: StepView): { action: string; node: Node; how: string } | undefined {
  const uses = usesOf(step.node);
  const action = uses ? actionName(uses.ref) : undefined;
  const control = action === undefined ? undefined : cacheRestoringActions.get(action);
  if (!uses || action === undefined || !control) return undefined;
  if (control.kind === 'always') return { action, node: uses.node, how: 'always restores a cache' };
  const inputNode = withInput(step.node, control.input);
  switch (control.kind) {
    case 'unless-true': {
      const value = booleanValue(inputNode);
      if (value === true || value === 'expression') return undefined;
      return { action, node: inputNode ?? uses.node, how: `restores a cache (no \`${control.input}: true\`)` };
    }
    case 'when-set': {
      const text = scalarText(inputNode)?.trim();
      if (!inputNode || !text || hasExpression(text) || text === 'false') return undefined;
      return { action, node: inputNode, how: `restores a cache (\`${control.input}: ${text}\`)` };
    }
    case 'when-true': {
      const value = booleanValue(inputNode);
      if (value === true && inputNode) return { action, node: inputNode, how: `restores a cache (\`${control.input}: true\`)` };
      if (value !== undefined || !control.defaultOn) return undefined;
      const major = majorVersion(file, uses);
      const { from, before } = control.defaultOn;
      if (major === undefined || major < from || (before !== undefined && major >= before)) return undefined;
      return { action, node: uses.node, how: `restores a cache by default (v${major}, no \`${control.input}: false\`)` };
    }
  }
}
