import { isMap, type Node, type YAMLMap } from 'yaml';
import { isUnfixable, removePair } from '../../edit/yaml-edits';
import {
  findInNodeSource,
  type FixPlan,
  jobsOf,
  mapEntries,
  mapGet,
  rootMap,
  type Rule,
  type RuleReport,
  scalarText,
  stepsOf,
  stepsOfJob,
  type StepView,
} from '../../rule';
import { hasExpression } from '../../security-sites';

const variable = 'ACTIONS_ALLOW_UNSECURE_COMMANDS';
/** Values the runner reads as true (actions/runner StringUtil.ConvertToBoolean, case-insensitive). */
const runnerTrueValues = new Set(['true', '1', '$true']);
/** A script enabling the variable for later steps through the env file. */
const envFileWrite = new RegExp(`${variable}=["']?(?:true|1|\\$true)\\b[^\\n]*GITHUB_ENV`, 'i');
/** The commands the variable re-enables, as a script prints them. */
const insecureCommand = /::(?:set-env|add-path)\b/;

/** An `env:` block and the steps it applies to. */
interface EnvScope {
  /** The workflow, job or step map that holds `env:`. */
  owner: YAMLMap;
  env: Node | undefined;
  steps: StepView[];
}

/**
 * How to remove the variable from one `env:` block, or why not. A script of the scope that still prints the commands
 * would fail without it; an action of the scope may print them too (old setup actions did), which no file shows.
 */
function removalOf(scope: EnvScope): Pick<RuleReport, 'fix' | 'unfixable'> {
  const printing = scope.steps.find((step) => insecureCommand.test(scalarText(mapGet(step.node, 'run')) ?? ''));
  if (printing !== undefined) {
    return { unfixable: 'a script in its scope still prints `::set-env` or `::add-path`: fix deprecated-workflow-commands first, then run the fix again' };
  }
  const usesActions = scope.steps.some((step) => mapGet(step.node, 'uses') !== undefined);
  return { fix: removeVariable(scope, usesActions ? 'unsafe' : 'safe') };
}

/**
 * Removes the pair, and the `env:` block with it when it held nothing else. Safe when every step of the scope is a
 * script that prints neither command; unsafe when it runs actions, which may still print them and would then fail.
 */
function removeVariable(scope: EnvScope, safety: FixPlan['safety']): FixPlan {
  return {
    safety,
    title: `Remove \`${variable}\``,
    edits: ({ file }) => {
      const env = scope.env;
      if (!isMap(env)) return { unfixable: '`env:` is not a map' };
      const edit = mapEntries(env).length === 1 ? removePair(file, scope.owner, 'env') : removePair(file, env, variable);
      return isUnfixable(edit) ? edit : [edit];
    },
  };
}

export const insecureCommandsRule: Rule = {
  id: 'insecure-commands',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: 'The deprecated `set-env` and `add-path` workflow commands re-enabled with `ACTIONS_ALLOW_UNSECURE_COMMANDS`.',
  rationale:
    'GitHub disabled the `::set-env::` and `::add-path::` workflow commands in 2020 because any process that can ' +
    'print to a step\'s output, including a tool printing attacker-controlled text such as an issue title or a ' +
    'test name, could set `PATH`, `LD_PRELOAD` or `NODE_OPTIONS` for every later step and so run code. Setting ' +
    '`ACTIONS_ALLOW_UNSECURE_COMMANDS` to true turns that injection path back on for the whole scope of the `env:` ' +
    'block (workflow, job or step), or for all later steps when written to `$GITHUB_ENV`.',
  remediation:
    'Remove `ACTIONS_ALLOW_UNSECURE_COMMANDS` and replace `::set-env` / `::add-path` with writes to the ' +
    '`$GITHUB_ENV` and `$GITHUB_PATH` files; update actions that still print these commands.',
  examples: {
    bad: [
      'on: push',
      'env:',
      '  ACTIONS_ALLOW_UNSECURE_COMMANDS: true',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo "::add-path::$HOME/bin"',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo "$HOME/bin" >> "$GITHUB_PATH"',
      '',
    ].join('\n'),
  },
  fixes: {
    safety: 'safe',
    description:
      'Removes `ACTIONS_ALLOW_UNSECURE_COMMANDS: true` from an `env:` block (and the block when nothing else is left). ' +
      'Not offered while a script in its scope still prints `::set-env` or `::add-path` (fix deprecated-workflow-commands ' +
      'first); unsafe when the scope runs actions, which may print them.',
  },
  check(ctx) {
    const root = rootMap(ctx.file);
    const steps = stepsOf(ctx.file);
    const scopes: EnvScope[] = [
      ...(root ? [{ owner: root, env: mapGet(root, 'env'), steps }] : []),
      ...jobsOf(ctx.file).map((job) => ({ owner: job.node, env: mapGet(job.node, 'env'), steps: stepsOfJob(job) })),
      ...steps.map((step) => ({ owner: step.node, env: mapGet(step.node, 'env'), steps: [step] })),
    ];
    for (const scope of scopes) {
      for (const { key, value, pair } of mapEntries(scope.env)) {
        if (key !== variable) continue;
        const text = scalarText(value)?.trim();
        if (text === undefined) continue;
        if (hasExpression(text)) {
          ctx.report({
            node: pair,
            message: `\`${variable}\` is set from an expression and may re-enable \`set-env\`/\`add-path\``,
            confidence: 'low',
            unfixable: 'the value is an expression that may be false; remove the variable by hand if it is never true',
          });
        } else if (runnerTrueValues.has(text.toLowerCase())) {
          ctx.report({ node: pair, message: `\`${variable}: ${text}\` re-enables the \`set-env\` and \`add-path\` workflow commands`, ...removalOf(scope) });
        }
      }
    }
    for (const step of steps) {
      const run = mapGet(step.node, 'run');
      const script = scalarText(run);
      const match = script === undefined ? null : envFileWrite.exec(script);
      if (!run || !match) continue;
      const [range] = findInNodeSource(ctx.file, run, `${variable}=`);
      ctx.report({
        node: run,
        ...(range ? { range } : {}),
        message: `the script writes \`${variable}\` to \`$GITHUB_ENV\`, re-enabling \`set-env\` and \`add-path\` for later steps`,
        unfixable: 'the script writes the variable itself; remove that line once no later step prints `::set-env` or `::add-path`',
      });
    }
  },
};
