/**
 * The shell a `run:` step's script is written for, as fixes that rewrite scripts need to know it: the step's own
 * `shell:`, the job's or the workflow's `defaults.run.shell`, else the default of the runner (pwsh on Windows,
 * bash elsewhere), with a matrix deciding for `runs-on` expressions.
 */
import { mapGet, rootMap, scalarText, type StepView, stringList, type WorkflowFile } from './rule';
import { scalarValues } from './rules/cost-facts';

/** Shell families whose script syntax differs for a rewrite. */
export type ScriptShell = 'posix' | 'pwsh' | 'powershell';

/** The step's shell family, or why it cannot be known from the workflow (a sentence fragment for a fix note). */
export function scriptShellOf(file: WorkflowFile, step: StepView): ScriptShell | { unknown: string } {
  const declared =
    scalarText(mapGet(step.node, 'shell')) ??
    scalarText(mapGet(mapGet(mapGet(step.job?.node, 'defaults'), 'run'), 'shell')) ??
    scalarText(mapGet(mapGet(mapGet(rootMap(file), 'defaults'), 'run'), 'shell'));
  if (declared !== undefined) {
    const program = declared.trim().split(/\s+/)[0] ?? '';
    if (program === 'bash' || program === 'sh') return 'posix';
    if (program === 'pwsh') return 'pwsh';
    if (program === 'powershell') return 'powershell';
    return { unknown: `the step runs in \`${declared}\`, a shell no rewrite is written for` };
  }
  if (step.job === undefined) return { unknown: 'the step declares no shell' };
  const runsOn = mapGet(step.job.node, 'runs-on');
  const labels = [...stringList(runsOn), ...stringList(mapGet(runsOn, 'labels'))];
  if (labels.length === 0) return { unknown: 'the runner, and with it the default shell, is not known' };
  const candidates = labels.some((label) => label.includes('${{'))
    ? [...labels.filter((label) => !label.includes('${{')), ...scalarValues(mapGet(mapGet(step.job.node, 'strategy'), 'matrix'))]
    : labels;
  const windows = candidates.filter((label) => /windows/i.test(label)).length;
  if (windows === 0) {
    return labels.some((label) => label.includes('${{') && !/\bmatrix\./.test(label)) ? { unknown: 'the runner, and with it the default shell, is decided at run time' } : 'posix';
  }
  return windows === candidates.length ? 'pwsh' : { unknown: 'the job runs on Windows and other runners, whose default shells differ' };
}
