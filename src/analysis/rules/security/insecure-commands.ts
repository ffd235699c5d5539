import type { Node } from 'yaml';
import { findInNodeSource, jobsOf, mapEntries, mapGet, rootMap, type Rule, scalarText, stepsOf } from '../../rule';
import { hasExpression } from '../../security-sites';

const variable = 'ACTIONS_ALLOW_UNSECURE_COMMANDS';
/** Values the runner reads as true (actions/runner StringUtil.ConvertToBoolean, case-insensitive). */
const runnerTrueValues = new Set(['true', '1', '$true']);
/** A script enabling the variable for later steps through the env file. */
const envFileWrite = new RegExp(`${variable}=["']?(?:true|1|\\$true)\\b[^\\n]*GITHUB_ENV`, 'i');

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
  check(ctx) {
    const root = rootMap(ctx.file);
    const steps = stepsOf(ctx.file);
    const envBlocks: Array<Node | undefined> = [
      mapGet(root, 'env'),
      ...jobsOf(ctx.file).map((job) => mapGet(job.node, 'env')),
      ...steps.map((step) => mapGet(step.node, 'env')),
    ];
    for (const env of envBlocks) {
      for (const { key, value, pair } of mapEntries(env)) {
        if (key !== variable) continue;
        const text = scalarText(value)?.trim();
        if (text === undefined) continue;
        if (hasExpression(text)) {
          ctx.report({ node: pair, message: `\`${variable}\` is set from an expression and may re-enable \`set-env\`/\`add-path\``, confidence: 'low' });
        } else if (runnerTrueValues.has(text.toLowerCase())) {
          ctx.report({ node: pair, message: `\`${variable}: ${text}\` re-enables the \`set-env\` and \`add-path\` workflow commands` });
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
      });
    }
  },
};
