import { isMap, type Node } from 'yaml';
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

/**
 * How an action decides whether it restores a cache:
 * - `always`: whenever it runs;
 * - `unless-true`: unless the input is literally true (`lookup-only`, `cache-disabled`);
 * - `when-true`: when the input is literally true, or when absent on majors [from, before) that default it on;
 * - `when-set`: when the input names something to cache (`cache: npm`).
 * Action defaults as of 2026-11-24, from the actions' action.yml files (knowledge, not fetched).
 */
type CacheControl =
  | { kind: 'always' }
  | { kind: 'unless-true'; input: string }
  | { kind: 'when-true'; input: string; defaultOn?: { from: number; before?: number } }
  | { kind: 'when-set'; input: string };

const cacheAwareActions: ReadonlyMap<string, CacheControl> = new Map<string, CacheControl>([
  ['actions/cache', { kind: 'unless-true', input: 'lookup-only' }],
  ['actions/cache/restore', { kind: 'unless-true', input: 'lookup-only' }],
  ['actions/setup-node', { kind: 'when-set', input: 'cache' }],
  ['actions/setup-python', { kind: 'when-set', input: 'cache' }],
  ['actions/setup-java', { kind: 'when-set', input: 'cache' }],
  ['actions/setup-go', { kind: 'when-true', input: 'cache', defaultOn: { from: 4 } }],
  ['actions/setup-dotnet', { kind: 'when-true', input: 'cache' }],
  ['astral-sh/setup-uv', { kind: 'when-true', input: 'enable-cache', defaultOn: { from: 5, before: 10 } }],
  ['swatinem/rust-cache', { kind: 'unless-true', input: 'lookup-only' }],
  ['ruby/setup-ruby', { kind: 'when-true', input: 'bundler-cache' }],
  ['gradle/actions/setup-gradle', { kind: 'unless-true', input: 'cache-disabled' }],
  ['gradle/gradle-build-action', { kind: 'unless-true', input: 'cache-disabled' }],
  ['pyo3/maturin-action', { kind: 'when-true', input: 'sccache' }],
  ['mozilla-actions/sccache-action', { kind: 'always' }],
  ['actions-rust-lang/setup-rust-toolchain', { kind: 'when-true', input: 'cache', defaultOn: { from: 1 } }],
  ['jdx/mise-action', { kind: 'when-true', input: 'cache', defaultOn: { from: 1 } }],
  ['graalvm/setup-graalvm', { kind: 'when-set', input: 'cache' }],
  ['mlugg/setup-zig', { kind: 'when-true', input: 'use-cache', defaultOn: { from: 1 } }],
  ['awalsh128/cache-apt-pkgs-action', { kind: 'always' }],
  ['nix-community/cache-nix-action', { kind: 'always' }],
]);

/** Actions whose use means the job publishes what it built. */
const publishingActions = new Set([
  'pypa/gh-action-pypi-publish',
  'rubygems/release-gem',
  'softprops/action-gh-release',
  'ncipollo/release-action',
  'svenstaro/upload-release-action',
  'js-devtools/npm-publish',
  'jreleaser/release-action',
  'redhat-actions/push-to-registry',
]);

/** Where a shell command starts: line start, after `;`, `&&`, `||`, `|`, `(` or `sudo`. */
const commandStart = String.raw`(?:^|[;&|(]|\bsudo)\s*`;

/** Script commands that publish packages, images or releases (a wrapper such as `archery docker push` is not one). */
const publishingCommands: ReadonlyArray<[RegExp, string]> = (
  [
    [String.raw`(?:npm|pnpm|yarn)(?:\s+-{1,2}[\w=-]+)*\s+(?:npm\s+)?publish(?![\w-])`, 'package publish'],
    [String.raw`(?:(?:python3?|py)\s+-m\s+|(?:uv|pipx)\s+run\s+)?twine\s+upload\b`, '`twine upload`'],
    [String.raw`(?:poetry|uv|hatch|flit)\s+publish\b`, 'package publish'],
    [String.raw`cargo\s+(?:\+\S+\s+)?publish\b`, '`cargo publish`'],
    [String.raw`gem\s+push\b`, '`gem push`'],
    [String.raw`gh\s+release\s+(?:create|upload)\b`, '`gh release`'],
    [String.raw`(?:dotnet\s+)?nuget\s+push\b`, '`nuget push`'],
    [String.raw`docker\s+(?:image\s+)?push\b`, '`docker push`'],
    [String.raw`docker\s+buildx\s+(?:build|bake)\b.*\s--push\b`, '`docker buildx --push`'],
    [String.raw`goreleaser\s+release\b`, '`goreleaser release`'],
    [String.raw`(?:\.\/)?mvnw?\b.*\sdeploy\b`, '`mvn deploy`'],
  ] as const
).map(([command, label]) => [new RegExp(commandStart + command), label]);
/** Rehearsals that publish nothing. */
const rehearsal = /--dry-run\b|--snapshot\b/;

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
    if (publishingActions.has(name)) return `\`${name}\``;
    if (name === 'docker/build-push-action' && booleanValue(withInput(step.node, 'push')) === true) return '`docker/build-push-action` with `push: true`';
    if (name === 'goreleaser/goreleaser-action') {
      const args = scalarText(withInput(step.node, 'args')) ?? '';
      if (/\brelease\b/.test(args) && !rehearsal.test(args)) return '`goreleaser release`';
    }
    return undefined;
  }
  const script = scalarText(mapGet(step.node, 'run')) ?? '';
  for (const line of script.split('\n')) {
    if (rehearsal.test(line)) continue;
    const command = publishingCommands.find(([pattern]) => pattern.test(line));
    if (command) return command[1];
  }
  return undefined;
}

/** Whether the step restores a cache: the node that turns caching on and how, or undefined. */
function cacheUse(file: WorkflowFile, step: StepView): { action: string; node: Node; how: string } | undefined {
  const uses = usesOf(step.node);
  const action = uses ? actionName(uses.ref) : undefined;
  const control = action === undefined ? undefined : cacheAwareActions.get(action);
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
