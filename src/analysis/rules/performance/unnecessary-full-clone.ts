import { isMap, type Node } from 'yaml';
import { isUnfixable, removePair } from '../../edit/yaml-edits';
import {
  type FixPlan,
  jobsOf,
  mapGet,
  mapPair,
  type RepositoryView,
  rootMap,
  type Rule,
  scalarText,
  stepsOfJob,
  type StepView,
} from '../../rule';
import {
  isPublishingWorkflowFile,
  localActionSteps,
  restOfLine,
  scalarValues,
  stepAction,
  stepScript,
} from '../cost-facts';

/** git subcommands that read history, other branches or tags (or push, which can need them). */
const historyGitSubcommands = [
  'log', 'describe', 'tag', 'rev-list', 'merge-base', 'shortlog', 'blame', 'cherry-pick', 'cherry', 'rebase', 'merge',
  'push', 'pull', 'fetch', 'format-patch', 'bisect', 'worktree', 'name-rev', 'for-each-ref', 'notes', 'range-diff',
  'reflog', 'whatchanged', 'branch', 'checkout', 'switch', 'reset', 'show-branch', 'ls-remote', 'bundle', 'am',
  'revert', 'replace',
];
const gitCommand = String.raw`\bgit\s+(?:-[Cc]\s+\S+\s+)*`;
const historyGitCommand = new RegExp(`${gitCommand}(?:${historyGitSubcommands.join('|')})\\b`);

/** git subcommands that take revisions: they use history unless every revision argument is `HEAD`. */
const revisionGitSubcommands = ['diff', 'show', 'rev-parse', 'ls-tree', 'cat-file', 'archive', 'grep'];
const revisionGitCommand = new RegExp(`${gitCommand}(?:${revisionGitSubcommands.join('|')})\\b([^\\n;&|]*)`, 'g');

/**
 * Signs in scripts and action inputs that the job may read history, tags or other branches. Deliberately broad:
 * a missed full clone costs seconds, a wrong removal breaks version numbers or diffs.
 */
const historySigns: readonly RegExp[] = [
  // Refs other than the checked-out commit, and "changed since" selections.
  /HEAD[~^]|\bbase[._-]?(?:ref|rev|sha|branch|commit)\b|github\.event\.before|\b(?:origin|upstream)\/|merge-base/i,
  /--from-ref|--since\b|changedSince|--changed\b|--only-changed|affected|--filter=?\S*\[|\bbisect\b/i,
  // An identity for commits, which are then pushed.
  /git\s+config\s+(?:--\S+\s+)*user\.(?:name|email)/,
  // Version, changelog and release tools (many derive versions from tags).
  /changelog|semantic-release|release-please|goreleaser|git-cliff|git-chglog|towncrier|changeset|covector/i,
  /commitlint|commitizen|\bcz\s+bump|conventional|standard-version|release-it|bump2?version|tbump|gitversion/i,
  /\bnbgv\b|\bminver\b|\bnpm\s+version\b|cargo[- ]release|semver-checks|\bvergen\b|\bpublish\b|\bpromote\b/i,
  /SOURCE_DATE_EPOCH/,
  // Python packages whose version may come from tags (setuptools-scm, hatch-vcs, versioneer...).
  /setuptools[-_]scm|hatch-vcs|versioneer|versioningit|dunamai|dynamic-versioning|\bpbr\b|\bscm\b/i,
  /python3?\s+-m\s+build\b|\buv\s+(?:build|sync)\b|\bhatch\b|setup\.py|cibuildwheel|maturin|\b(?:poetry|pdm)\s+build\b/,
  /\bpip3?\s+install\s+(?:[^\n]*\s)?(?:-e\s*\S|--editable|\.(?:\s|$|\[|\/))|\bflit\b|\btox\b|\bnox\b/m,
  // Documentation builders often stamp pages with git dates or publish versioned docs to a branch.
  /\bdocs?\b|mkdocs|sphinx|\bmike\b|docusaurus|vitepress|\bhugo\b/i,
  // History scanners and review bots.
  /sonar|chromatic|gitleaks|trufflehog|danger|reviewdog|super-linter|megalinter|codex|claude|copilot/i,
  // Whole-project native builds commonly embed `git describe` output as the version.
  /\bcmake\b|\bninja\b|\bccache\b|\.\/configure\b|\bmeson\b|\bbazel(?:isk)?\b/,
  /(?:^|[\s;&|(-])make\s*(?:$|[;&|)'"]|-j)/m,
  /\bmake\s+[^\n]*(?:release|version|changelog|tag|dist|validate|package|deploy)/,
  // Repository code the rule cannot read: sourced shell libraries, PowerShell modules, scripts named after
  // builds, packaging or releases.
  /\bsource\s+[\w.-]+\/|Import-Module/,
  /\/[\w.-]*(?:build|package|dist|release|version|changelog|tag|validate)[\w.-]*(?=$|[\s"';&|)])/im,
];

/** Words in an action's `owner/repo` that suggest it reads history (changed files, versions, commit linting...). */
const historyActionWords = [
  'changelog', 'changed', 'changes', 'paths-filter', 'semver', 'semantic', 'version', 'release', 'tag', 'sonar', 'leak',
  'trufflehog', 'history', 'commit', 'diff', 'affected', 'push', 'lint-pr', 'pr-lint', 'blame', 'scm', 'nx-set-shas',
  'super-linter', 'megalinter', 'reviewdog', 'chromaui', 'danger', 'hawkeye', 'skywalking-eyes', 'create-pull-request',
  'goreleaser', 'covector', 'git-user', 'codex', 'claude', 'copilot', 'agent', 'docs', 'pages',
];

function usesHistoryInScript(script: string): boolean {
  if (historyGitCommand.test(script) || historySigns.some((sign) => sign.test(script))) return true;
  for (const match of script.matchAll(revisionGitCommand)) {
    const args = (match[1] ?? '').split('--')[0] ?? '';
    // `git diff --exit-code` and `git rev-parse HEAD` read only the checked-out commit; anything else may be a ref.
    if (args.split(/\s+/).some((arg) => arg !== '' && !arg.startsWith('-') && arg !== 'HEAD')) return true;
  }
  return false;
}

/** True when any of the steps may read history; unknown local actions count as "may". */
function stepsMayUseHistory(repo: RepositoryView, steps: readonly StepView[], visited: Set<string>): boolean {
  return steps.some((step) => {
    const script = stepScript(step);
    if (script !== undefined && usesHistoryInScript(script)) return true;
    const values = [...scalarValues(mapGet(step.node, 'with')), ...scalarValues(mapGet(step.node, 'env'))];
    if (values.some(usesHistoryInScript)) return true;
    const action = stepAction(step);
    if (action === undefined) return false;
    if (action.ref.kind === 'remote') return historyActionWords.some((word) => action.name.includes(word));
    if (action.ref.kind !== 'local') return false;
    if (visited.has(action.ref.raw)) return false;
    visited.add(action.ref.raw);
    const nested = localActionSteps(repo, action);
    return nested === undefined || stepsMayUseHistory(repo, nested, visited);
  });
}

function isFullDepth(node: Node | undefined): boolean {
  return scalarText(node)?.trim() === '0';
}


/**
 * Unsafe: the rule's history signs are heuristics, and a build script may still run git on history it cannot see.
 * Removes `fetch-depth`, or the whole `with:` when it held nothing else (an empty `with:` is not a map).
 */
function shallowClone(step: StepView): FixPlan {
  return {
    safety: 'unsafe',
    title: 'Remove `fetch-depth: 0` from actions/checkout',
    edits: ({ file }) => {
      const inputs = mapGet(step.node, 'with');
      if (!isMap(inputs)) return { unfixable: '`with:` is not a map' };
      const edit = inputs.items.length === 1 ? removePair(file, step.node, 'with') : removePair(file, inputs, 'fetch-depth');
      return isUnfixable(edit) ? edit : [edit];
    },
  };
}

export const unnecessaryFullCloneRule: Rule = {
  id: 'unnecessary-full-clone',
  category: 'performance',
  severity: 'low',
  confidence: 'medium',
  appliesTo: ['workflow'],
  description:
    'Finds `actions/checkout` steps with `fetch-depth: 0` in jobs whose steps show no use of git history, tags or ' +
    'other branches.',
  rationale:
    '`fetch-depth: 0` downloads every commit, branch and tag of the repository instead of the single commit a build ' +
    'needs. On large or old repositories this adds from seconds to several minutes to every job and moves a lot of ' +
    'data for nothing. The rule looks for anything in the job that could need the history (git commands such as ' +
    '`log`, `describe`, `tag`, `diff` against another ref or `push`; version, changelog and release tools; ' +
    'setuptools-scm style Python builds; changed-files and secret-scanning actions; local actions it cannot see) and ' +
    'stays silent when it finds one, but build scripts can still call git internally, so check before removing the ' +
    'option.',
  remediation:
    'Remove `fetch-depth: 0` so the checkout fetches only the commit under test. If a step needs a little history or ' +
    'the tags, fetch only that: a small `fetch-depth`, `fetch-tags: true`, or `git fetch --depth=N origin <ref>` in ' +
    'the step that needs it.',
  examples: {
    bad: `name: CI
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - run: go test ./...
`,
    good: `name: CI
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: go test ./...
`,
  },
  fixes: {
    safety: 'unsafe',
    description:
      'Removes `fetch-depth: 0` (and `with:` when nothing else is in it). Unsafe: a build script may still read ' +
      'history the rule cannot see.',
  },
  check(ctx) {
    // Release builds derive versions and changelogs from tags far too often to second-guess them.
    if (isPublishingWorkflowFile(ctx.file)) return;
    for (const job of jobsOf(ctx.file)) {
      const steps = stepsOfJob(job);
      const fullClones = steps.flatMap((step) => {
        if (stepAction(step)?.name !== 'actions/checkout') return [];
        const inputs = mapGet(step.node, 'with');
        const depth = mapGet(inputs, 'fetch-depth');
        if (depth === undefined || !isFullDepth(depth) || mapPair(inputs, 'fetch-tags') !== undefined) return [];
        // A comment on the line means the author wrote down why the full clone is needed.
        return restOfLine(ctx.file, depth).includes('#') ? [] : [{ step, depth }];
      });
      if (fullClones.length === 0) continue;
      const settings = [
        ...scalarValues(mapGet(rootMap(ctx.file), 'env')),
        ...scalarValues(mapGet(job.node, 'env')),
        ...scalarValues(mapGet(mapGet(job.node, 'strategy'), 'matrix')),
      ];
      if (settings.some(usesHistoryInScript) || stepsMayUseHistory(ctx.repo, steps, new Set())) continue;
      for (const { step, depth } of fullClones) {
        ctx.report({
          fix: shallowClone(step),
          node: depth,
          message:
            `\`fetch-depth: 0\` clones the full history in job \`${job.id}\`, ` +
            'but none of its steps appears to use history, tags or other branches',
        });
      }
    }
  },
};
