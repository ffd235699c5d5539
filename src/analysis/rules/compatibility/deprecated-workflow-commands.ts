import type { Severity, SourceRange } from '../../../domain/types';
import { lineEndOf, lineStartOf } from '../../edit/layout';
import type { TextEdit } from '../../edit/text-edits';
import { isUnfixable, renderScalar, type Unfixable } from '../../edit/yaml-edits';
import { findInNodeSource, type FixPlan, mapGet, type Rule, stepsOf, type StepView, type WorkflowFile } from '../../rule';
import { type ScriptShell, scriptShellOf } from '../../step-shell';
import { isScalar, Scalar } from 'yaml';

interface DeprecatedCommand {
  command: string;
  severity: Severity;
  status: string;
  replacement: string;
  /** The environment file that replaces the command. */
  file: 'GITHUB_OUTPUT' | 'GITHUB_STATE' | 'GITHUB_ENV' | 'GITHUB_PATH';
}

const COMMANDS: readonly DeprecatedCommand[] = [
  {
    command: 'set-output',
    file: 'GITHUB_OUTPUT',
    severity: 'medium',
    status: 'is deprecated: the runner prints a warning and GitHub has announced it will stop honouring it',
    replacement: 'echo "name=value" >> "$GITHUB_OUTPUT"',
  },
  {
    command: 'save-state',
    file: 'GITHUB_STATE',
    severity: 'medium',
    status: 'is deprecated: the runner prints a warning and GitHub has announced it will stop honouring it',
    replacement: 'echo "name=value" >> "$GITHUB_STATE"',
  },
  {
    command: 'set-env',
    file: 'GITHUB_ENV',
    severity: 'high',
    status: 'is disabled: the runner fails the step unless ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables it',
    replacement: 'echo "NAME=value" >> "$GITHUB_ENV"',
  },
  {
    command: 'add-path',
    file: 'GITHUB_PATH',
    severity: 'high',
    status: 'is disabled: the runner fails the step unless ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables it',
    replacement: 'echo "/path/to/dir" >> "$GITHUB_PATH"',
  },
];

/** `echo "::command name=x::value"` (or with single or no quotes) alone on its line; `Write-Output`/`Write-Host` for PowerShell. */
const ECHO_LINE = /^(?<indent>\s*)(?<echo>echo|Write-Output|Write-Host)\s+(?<quote>["']?)::(?<command>[a-z-]+)(?: name=(?<name>[A-Za-z_][\w.-]*))?::(?<value>.*)\k<quote>\s*$/;

/** The line rewritten to append to the environment file, or why it cannot be rewritten exactly. */
function rewrittenLine(line: string, command: DeprecatedCommand, shell: ScriptShell): string | { unfixable: string } {
  const match = ECHO_LINE.exec(line)?.groups;
  if (match === undefined || match.command !== command.command) {
    return { unfixable: 'the command is not a lone `echo "::...::..."` line, the only form rewritten automatically' };
  }
  const { indent = '', echo = '', quote = '', name, value = '' } = match;
  if ((name === undefined) !== (command.file === 'GITHUB_PATH')) return { unfixable: `the \`::${command.command}\` line has an unexpected form` };
  // Workflow commands escape line breaks and percent signs; an environment file needs a delimiter block for them.
  if (/%(?:25|0A|0D)/i.test(value)) return { unfixable: 'the value contains escaped line breaks or percent signs' };
  // The line must be one command with one argument: a quote inside the value, or shell syntax in an unquoted one,
  // could end the argument early, and the redirection would then go to another command.
  const oneArgument = quote === '' ? /^[^\s;&|<>#`'"()\\]*$/.test(value) : !value.includes(quote);
  if (!oneArgument) return { unfixable: 'the line holds more than the one echoed argument' };
  const entry = `${quote}${name === undefined ? '' : `${name}=`}${value}${quote}`;
  if (shell === 'posix') {
    if (echo !== 'echo') return { unfixable: `\`${echo}\` is not a POSIX shell command` };
    return `${indent}echo ${entry} >> "$${command.file}"`;
  }
  if (quote === '') return { unfixable: 'unquoted PowerShell arguments are not rewritten' };
  // Windows PowerShell 5 writes UTF-16 with `>>`; the runner reads environment files as UTF-8.
  return shell === 'pwsh' ? `${indent}${entry} >> $env:${command.file}` : `${indent}${entry} | Out-File -FilePath $env:${command.file} -Encoding utf8 -Append`;
}

/** The edit rewriting the command's script line, or why the line cannot be rewritten exactly. */
function commandRewrite(file: WorkflowFile, step: StepView, run: Scalar, range: SourceRange, command: DeprecatedCommand): TextEdit | Unfixable {
  if (run.type !== Scalar.PLAIN && run.type !== Scalar.BLOCK_LITERAL) return { unfixable: 'the script is a quoted or folded YAML scalar' };
  const shell = scriptShellOf(file, step);
  if (typeof shell === 'object') return { unfixable: shell.unknown };
  const offset = (file.lineCounter.lineStarts[range.line - 1] ?? 0) + range.column - 1;
  // The script line: from the value's start (plain, or a `run: echo ...` line) or the line start, to the line end.
  const scriptStart = Math.max(lineStartOf(file.text, offset), run.range?.[0] ?? 0);
  const scriptEnd = Math.min(lineEndOf(file.text, offset), run.range?.[1] ?? file.text.length);
  const line = rewrittenLine(file.text.slice(scriptStart, scriptEnd), command, shell);
  if (typeof line !== 'string') return line;
  if (run.type === Scalar.BLOCK_LITERAL) return { start: scriptStart, end: scriptEnd, text: line };
  // A plain script is the whole scalar; it is quoted when the new line would not read back as plain YAML.
  if (scriptStart !== run.range?.[0] || scriptEnd !== run.range[1]) return { unfixable: 'the script is a plain YAML scalar over several lines' };
  return { start: scriptStart, end: scriptEnd, text: renderScalar(line) };
}

/**
 * Safe: the rewritten line writes the same name and value to the environment file the runner reads instead of the
 * command. Decided when checking (a line either has the one rewritable shape or not), so findings say whether
 * `wpa fix` can fix them.
 */
function rewriteCommand(file: WorkflowFile, step: StepView, run: Scalar, range: SourceRange, command: DeprecatedCommand): { fix: FixPlan } | Unfixable {
  const edit = commandRewrite(file, step, run, range, command);
  if (isUnfixable(edit)) return edit;
  return { fix: { safety: 'safe', title: `Replace \`::${command.command}\` with an append to $${command.file}`, edits: () => [edit] } };
}

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
  fixes: {
    safety: 'safe',
    description:
      'Rewrites a lone `echo "::set-output name=x::v"` line (and `::save-state`, `::set-env`, `::add-path`) of a bash ' +
      'or sh script to `echo "x=v" >> "$GITHUB_OUTPUT"` (PowerShell: `"x=v" >> $env:GITHUB_OUTPUT`). Lines with more ' +
      'than the echo, escaped line breaks, or an unknown shell are left to you.',
  },
  check(ctx) {
    for (const step of stepsOf(ctx.file)) {
      const run = mapGet(step.node, 'run');
      if (!isScalar(run) || typeof run.value !== 'string') continue;
      for (const deprecated of COMMANDS) {
        const { command, severity, status, replacement } = deprecated;
        for (const range of findInNodeSource(ctx.file, run, `::${command}`)) {
          ctx.report({
            node: run,
            range,
            severity,
            message: `The \`::${command}\` workflow command ${status}.`,
            remediation: `Write to the environment file instead, e.g. \`${replacement}\`.`,
            ...rewriteCommand(ctx.file, step, run, range, deprecated),
          });
        }
      }
    }
  },
};
