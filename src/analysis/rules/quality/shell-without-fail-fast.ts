import { isScalar, type Node } from 'yaml';
import {
  findInNodeSource,
  type JobView,
  jobsOf,
  mapGet,
  rootMap,
  type Rule,
  type RuleContext,
  scalarText,
  type StepView,
  stepsOf,
  stepsOfJob,
} from '../../rule';

/**
 * How a step's script runs. GitHub's shells: unspecified on Linux/macOS is `bash -e {0}` (stops on errors, no
 * pipefail); `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`; `shell: sh` is `sh -e {0}`; `shell: cmd`
 * runs the script as a batch file whose exit code is the last command's; a custom string (`bash -l {0}`) runs
 * exactly as written. PowerShell and Python are left alone: their error handling is not a shell flag.
 */
type ShellBehaviour =
  | { kind: 'posix'; errexit: boolean; pipefail: boolean; label: string; node: Node | undefined }
  | { kind: 'cmd'; node: Node | undefined }
  | { kind: 'other' };

const POSIX_SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh']);
const SCRIPT_ERREXIT = /^\s*set\s+(-[a-zA-Z]*e[a-zA-Z]*\b|-o\s+errexit\b)/m;
const SCRIPT_NO_ERREXIT = /^\s*set\s+\+[a-zA-Z]*e/m;
const SCRIPT_PIPEFAIL = /\bset\s+[-+a-zA-Z]*o\s+pipefail\b|\bshopt\s+-s?o\s+pipefail\b/;
/** `cmd | tee file`: tee succeeds, so without pipefail the pipeline hides the command's failure. */
const TEE_PIPELINE = /(^|[^|])\|&?\s*tee\b/;
/**
 * Pipelines that are fine without pipefail: the first command cannot meaningfully fail, the failure is ignored on
 * purpose (`|| true`), or the output only feeds a step summary or output file.
 */
const HARMLESS_TEE = /^\s*(echo|printf|cat)\b|\|\|\s*(true|:)\s*$|tee\s+(-a\s+)?"?\$\{?GITHUB_/;
/** Batch scripts that check errors themselves. */
const CMD_ERROR_HANDLING = /errorlevel|exit\s+\/b|\|\|/i;

function parseCustomShell(text: string, node: Node | undefined): ShellBehaviour {
  const [command = '', ...args] = text.trim().split(/\s+/);
  const name = command.split(/[\\/]/).pop()?.replace(/\.exe$/i, '').toLowerCase() ?? '';
  if (!POSIX_SHELLS.has(name)) return { kind: 'other' };
  let errexit = false;
  let pipefail = false;
  args.forEach((arg, index) => {
    if (!/^-[a-zA-Z]+$/.test(arg)) return;
    if (arg.includes('e')) errexit = true;
    const option = arg.includes('o') ? args[index + 1] : undefined;
    if (option === 'pipefail') pipefail = true;
    if (option === 'errexit') errexit = true;
  });
  return { kind: 'posix', errexit, pipefail, label: `\`${text.trim()}\``, node };
}

function shellBehaviour(text: string, node: Node | undefined): ShellBehaviour {
  const shell = text.trim();
  if (shell.includes('${{')) return { kind: 'other' };
  if (shell === 'bash') return { kind: 'posix', errexit: true, pipefail: true, label: '`bash`', node };
  if (shell === 'sh') return { kind: 'posix', errexit: true, pipefail: false, label: '`sh` (`sh -e {0}`)', node };
  if (shell === 'cmd') return { kind: 'cmd', node };
  if (shell.includes('{0}')) return parseCustomShell(shell, node);
  return { kind: 'other' };
}

/** Whether the job can land on Windows, where an unspecified shell is PowerShell. */
function mayRunOnWindows(ctx: RuleContext, job: JobView): boolean {
  const text = (node: Node | undefined): string => (node?.range ? ctx.file.text.slice(node.range[0], node.range[1]) : '');
  const runsOn = text(mapGet(job.node, 'runs-on'));
  // Labels computed from inputs, outputs or variables could be anything.
  if (/\b(inputs|needs|vars|github|fromjson)\b/i.test(runsOn) || runsOn === '') return true;
  const windows = /(^|[^a-z])win/i;
  return windows.test(runsOn) || (runsOn.includes('matrix') && windows.test(text(mapGet(job.node, 'strategy'))));
}

function effectiveShell(ctx: RuleContext, step: StepView): ShellBehaviour {
  const candidates = [
    mapGet(step.node, 'shell'),
    step.job ? mapGet(mapGet(mapGet(step.job.node, 'defaults'), 'run'), 'shell') : undefined,
    mapGet(mapGet(mapGet(rootMap(ctx.file), 'defaults'), 'run'), 'shell'),
  ];
  const declared = candidates.find((node) => node !== undefined);
  if (declared) {
    const text = scalarText(declared);
    return text === undefined ? { kind: 'other' } : shellBehaviour(text, declared);
  }
  if (!step.job || mayRunOnWindows(ctx, step.job)) return { kind: 'other' };
  return { kind: 'posix', errexit: true, pipefail: false, label: 'the default shell (`bash -e {0}`)', node: undefined };
}

/** Script lines with continuations (`\\` in sh, `^` in batch) joined, without blank lines and comments. */
function commandLines(script: string): string[] {
  return script
    .replace(/[\\^]\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !/^rem\b|^::/i.test(line));
}

interface MissingErrexit {
  shell: Node;
  label: string;
  steps: StepView[];
}

export const shellWithoutFailFastRule: Rule = {
  id: 'shell-without-fail-fast',
  category: 'quality',
  severity: 'medium',
  confidence: 'medium',
  appliesTo: ['workflow', 'action'],
  description:
    'Finds multi-line `run:` scripts that keep going after a failed command: custom bash/sh shells without `-e`, ' +
    '`shell: cmd`, and `| tee` pipelines under shells without pipefail.',
  rationale:
    'A step fails only when its script exits non-zero. With a custom shell such as `bash -l {0}` (common with conda) ' +
    'there is no `-e`, so a failing command in the middle of a script is ignored and the step reports the status of ' +
    'the last line; `shell: cmd` behaves the same way. The default Linux shell (`bash -e {0}`) and `sh` stop on ' +
    'errors but have no pipefail, so `make 2>&1 | tee build.log` succeeds whenever `tee` does. `shell: bash` ' +
    '(`-eo pipefail`), PowerShell and Python are not reported.',
  remediation:
    'Use `shell: bash` (which adds `-eo pipefail`), add `-e` to a custom shell (`bash -el {0}`), or start the script ' +
    'with `set -eo pipefail`; in batch files, end commands with `|| exit /b 1`.',
  examples: {
    bad: [
      'name: Test',
      'on: push',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-24.04',
      '    defaults:',
      '      run:',
      '        shell: bash -l {0}',
      '    steps:',
      '      - run: |',
      '          conda env create -f environment.yml',
      '          pytest',
      '',
    ].join('\n'),
    good: [
      'name: Test',
      'on: push',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-24.04',
      '    defaults:',
      '      run:',
      '        shell: bash -el {0}',
      '    steps:',
      '      - run: |',
      '          conda env create -f environment.yml',
      '          pytest',
      '',
    ].join('\n'),
  },
  check(ctx) {
    const missing = new Map<Node, MissingErrexit>();
    const steps = ctx.file.kind === 'action' ? stepsOf(ctx.file) : jobsOf(ctx.file).flatMap(stepsOfJob);
    for (const step of steps) {
      const run = mapGet(step.node, 'run');
      if (!isScalar(run) || typeof run.value !== 'string') continue;
      const script = run.value;
      const lines = commandLines(script);
      const shell = effectiveShell(ctx, step);
      if (shell.kind === 'cmd' && shell.node && lines.length >= 2 && !CMD_ERROR_HANDLING.test(script)) {
        ctx.report({
          node: shell.node,
          severity: 'low',
          message: `This \`shell: cmd\` script has ${lines.length} commands and no error checks: only the exit code of the last one decides whether the step fails.`,
          remediation: 'End each command that must succeed with `|| exit /b 1`, or move the script to `shell: pwsh` or `shell: bash`.',
        });
      }
      if (shell.kind !== 'posix') continue;
      const errexit = shell.errexit || SCRIPT_ERREXIT.test(script);
      if (!errexit && shell.node && lines.length >= 2 && !SCRIPT_NO_ERREXIT.test(script)) {
        const entry = missing.get(shell.node) ?? { shell: shell.node, label: shell.label, steps: [] };
        entry.steps.push(step);
        missing.set(shell.node, entry);
        continue;
      }
      if (!errexit || shell.pipefail || SCRIPT_PIPEFAIL.test(script) || script.includes('PIPESTATUS')) continue;
      const teeLines = script.split(/\r?\n/).filter((line) => TEE_PIPELINE.test(line) && !HARMLESS_TEE.test(line) && !line.trim().startsWith('#'));
      const [firstTee] = teeLines;
      if (!firstTee) continue;
      const [range] = findInNodeSource(ctx.file, run, firstTee.trim());
      ctx.report({
        node: run,
        ...(range ? { range } : {}),
        severity: 'low',
        message: `This script pipes into \`tee\` under ${shell.label}, which has no pipefail: the step succeeds even when the command before \`| tee\` fails.`,
        remediation: 'Use `shell: bash` (it sets `-o pipefail`) or add `set -o pipefail` at the top of the script.',
      });
    }
    for (const { shell, label, steps: affected } of missing.values()) {
      const count = affected.length === 1 ? 'A multi-line script runs' : `${affected.length} multi-line scripts run`;
      ctx.report({
        node: shell,
        message: `${count} under ${label}, which has no \`-e\`: a failing command is ignored and only the last command decides whether the step fails.`,
      });
    }
  },
};
