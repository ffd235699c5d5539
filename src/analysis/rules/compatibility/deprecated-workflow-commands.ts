import type { Severity } from '../../../domain/types';
import { findInNodeSource, mapGet, type Rule, stepsOf } from '../../rule';
import { isScalar } from 'yaml';

interface DeprecatedCommand {
  command: string;
  severity: Severity;
  status: string;
  replacement: string;
}

const COMMANDS: readonly DeprecatedCommand[] = [
  {
    command: 'set-output',
    severity: 'medium',
    status: 'is deprecated: the runner prints a warning and GitHub has announced it will stop honouring it',
    replacement: 'echo "name=value" >> "$GITHUB_OUTPUT"',
  },
  {
    command: 'save-state',
    severity: 'medium',
    status: 'is deprecated: the runner prints a warning and GitHub has announced it will stop honouring it',
    replacement: 'echo "name=value" >> "$GITHUB_STATE"',
  },
  {
    command: 'set-env',
    severity: 'high',
    status: 'is disabled: the runner fails the step unless ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables it',
    replacement: 'echo "NAME=value" >> "$GITHUB_ENV"',
  },
  {
    command: 'add-path',
    severity: 'high',
    status: 'is disabled: the runner fails the step unless ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables it',
    replacement: 'echo "/path/to/dir" >> "$GITHUB_PATH"',
  },
];

export const deprecatedWorkflowCommandsRule: Rule = {
  id: 'deprecated-workflow-commands',
  category: 'compatibility',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: 'Finds the retired `::set-output`, `::save-state`, `::set-env` and `::add-path` workflow commands in `run:` scripts.',
  rationale:
    'GitHub replaced these stdout commands with environment files in 2020 and 2022. `::set-env` and `::add-path` are ' +
    'disabled because any log line could inject environment variables: steps using them fail. `::set-output` and ' +
    '`::save-state` still work with a deprecation warning on every run, and GitHub has announced that it will turn ' +
    'them off; outputs would then silently be empty.',
  remediation:
    'Append to the matching environment file instead: `echo "name=value" >> "$GITHUB_OUTPUT"` for outputs, ' +
    '`"$GITHUB_STATE"` for state, `"$GITHUB_ENV"` for environment variables and `"$GITHUB_PATH"` for PATH entries ' +
    '(in PowerShell: `"name=value" >> $env:GITHUB_OUTPUT`).',
  examples: {
    bad: [
      'name: Version',
      'on: push',
      'jobs:',
      '  version:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - id: read',
      '        run: echo "::set-output name=version::$(cat VERSION)"',
      '',
    ].join('\n'),
    good: [
      'name: Version',
      'on: push',
      'jobs:',
      '  version:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - id: read',
      '        run: echo "version=$(cat VERSION)" >> "$GITHUB_OUTPUT"',
      '',
    ].join('\n'),
  },
  check(ctx) {
    for (const step of stepsOf(ctx.file)) {
      const run = mapGet(step.node, 'run');
      if (!isScalar(run) || typeof run.value !== 'string') continue;
      for (const { command, severity, status, replacement } of COMMANDS) {
        for (const range of findInNodeSource(ctx.file, run, `::${command}`)) {
          ctx.report({
            node: run,
            range,
            severity,
            message: `The \`::${command}\` workflow command ${status}.`,
            remediation: `Write to the environment file instead, e.g. \`${replacement}\`.`,
          });
        }
      }
    }
  },
};
