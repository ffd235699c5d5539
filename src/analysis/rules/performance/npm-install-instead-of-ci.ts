import type { Node } from 'yaml';
import {
  type FixPlan,
  findInNodeSource,
  type JobView,
  mapGet,
  rootMap,
  type Rule,
  scalarText,
  stepsOf,
  stepsOfJob,
  type StepView,
} from '../../rule';
import { stepAction, stepScript } from '../cost-facts';

/** `npm install` / `npm i` and the rest of the command up to the next shell separator. */
const npmInstall = /(?:^|[\s;&|(])(npm\s+(?:install|i)(?=[\s;&|)]|$)([^\n;&|)]*))/gm;

/** npm lockfiles `npm ci` installs from. */
const lockfileNames = ['package-lock.json', 'npm-shrinkwrap.json'];

/** Jobs that update dependencies or the lockfile on purpose need `npm install`. */
const updatesLockfile: readonly RegExp[] = [
  /package-lock\.json|npm-shrinkwrap\.json/,
  /\bnpm\s+(?:audit|update|outdated|dedupe|prune)\b|\bncu\b|npm-check-updates/,
  /\bgit\s+commit\b/,
];

function updatesDependencies(steps: readonly StepView[]): boolean {
  return steps.some((step) => {
    const script = stepScript(step);
    if (script !== undefined) return updatesLockfile.some((pattern) => pattern.test(script));
    return stepAction(step)?.name.includes('create-pull-request') ?? false;
  });
}

/** The first bare `npm install` of a script (no package arguments, not global) and where it starts, or undefined. */
function firstBareNpmInstall(script: string): { command: string; index: number } | undefined {
  for (const match of script.matchAll(npmInstall)) {
    const args = (match[2] ?? '').trim().split(/\s+/).filter(Boolean);
    if (args.some((arg) => !arg.startsWith('-') || arg === '-g' || arg === '--global')) continue;
    const command = match[1] ?? '';
    return { command: command.trim(), index: match.index + match[0].indexOf(command) };
  }
  return undefined;
}

function bareNpmInstall(script: string): string | undefined {
  return firstBareNpmInstall(script)?.command;
}

/** The directory a step's script starts in, relative to the repository root ('' for the root). */
function workingDirectory(step: StepView, job: JobView | undefined, root: unknown): string | undefined {
  const candidates = [
    mapGet(step.node, 'working-directory'),
    mapGet(mapGet(mapGet(job?.node, 'defaults'), 'run'), 'working-directory'),
    mapGet(mapGet(mapGet(root, 'defaults'), 'run'), 'working-directory'),
  ];
  const directory = candidates.map(scalarText).find((text) => text !== undefined) ?? '';
  if (directory.includes('${{') || directory.startsWith('/') || directory.includes('..')) return undefined;
  return directory.replace(/^\.\/?/, '').replace(/\/+$/, '');
}

/**
 * Safe: the lockfile exists where the step runs and the job does not update it, so `npm ci` installs the versions
 * `npm install` would have kept. The verb is replaced in the source text, so quoting and block scalars stay.
 */
function useNpmCi(runNode: Node, command: string): FixPlan {
  const verb = /^npm\s+(?:install|i)\b/.exec(command)?.[0] ?? '';
  return {
    safety: 'safe',
    title: `Replace \`${verb}\` with \`npm ci\``,
    edits: ({ file }) => {
      const [start = 0, end = 0] = runNode.range ?? [];
      // The same search on the source text finds the same command; an opening quote stands where a line start
      // would (same length, so offsets hold).
      const found = firstBareNpmInstall(file.text.slice(start, end).replace(/^["']/, ' '));
      if (found?.command !== command) return { unfixable: `\`${command}\` is not written as it runs (a folded or escaped scalar)` };
      return [{ start: start + found.index, end: start + found.index + verb.length, text: 'npm ci' }];
    },
  };
}

export const npmInstallInsteadOfCiRule: Rule = {
  id: 'npm-install-instead-of-ci',
  category: 'performance',
  severity: 'low',
  confidence: 'medium',
  appliesTo: ['workflow', 'action'],
  description:
    'Finds `npm install` in CI steps where a `package-lock.json` exists and `npm ci` would install from it directly.',
  rationale:
    '`npm ci` installs exactly what the lockfile records without resolving versions again, which is faster than `npm ' +
    'install`, and it fails when package.json and the lockfile disagree instead of silently changing the dependency ' +
    'tree. `npm install` in CI can therefore test different dependency versions than the ones committed. The rule ' +
    'only fires when the repository has a lockfile in the directory the step runs in, for plain `npm install` ' +
    'without package arguments, and not in jobs that update dependencies or the lockfile on purpose.',
  remediation:
    'Replace `npm install` with `npm ci` (the same flags such as `--ignore-scripts` or `--no-audit` still apply).',
  examples: {
    bad: `name: CI
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm install
      - run: npm test
`,
    good: `name: CI
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci
      - run: npm test
`,
  },
  fixes: {
    safety: 'safe',
    description:
      'Replaces the `npm install` verb with `npm ci`, keeping its flags, where the rule fires (a lockfile in the ' +
      'step\'s directory, a job that does not update dependencies). A lockfile out of step with package.json then ' +
      'fails the install instead of being rewritten, which is the point of the change.',
  },
  check(ctx) {
    const root = rootMap(ctx.file);
    const allSteps = stepsOf(ctx.file);
    for (const step of allSteps) {
      const runNode = mapGet(step.node, 'run');
      const script = scalarText(runNode);
      if (runNode === undefined || script === undefined) continue;
      const command = bareNpmInstall(script);
      // A `cd` before the install moves it to a directory this rule cannot follow.
      if (command === undefined || /(?:^|[\s;&|(])cd\s/.test(script.slice(0, script.indexOf(command)))) continue;
      const directory = workingDirectory(step, step.job, root);
      if (directory === undefined) continue;
      const prefix = directory === '' ? '' : `${directory}/`;
      const lockfile = lockfileNames.map((name) => `${prefix}${name}`).find((path) => ctx.repo.fileExists(path));
      // A composite action has no job: its own steps are the context.
      const context = step.job === undefined ? allSteps : stepsOfJob(step.job);
      if (lockfile === undefined || updatesDependencies(context)) continue;
      const [range] = findInNodeSource(ctx.file, runNode, command);
      ctx.report({
        node: runNode,
        ...(range === undefined ? {} : { range }),
        message:
          `\`${command}\` re-resolves dependencies although \`${lockfile}\` pins them; ` +
          '`npm ci` installs from the lockfile directly',
        fix: useNpmCi(runNode, command),
      });
    }
  },
};
