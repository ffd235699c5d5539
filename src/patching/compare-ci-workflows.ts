/**
 * Semantic comparison of one CI workflow file before and after a patch. A patch must only tighten or fix:
 * losing a job, a step or a trigger, widening token permissions, or opening the workflow to untrusted code
 * (`pull_request_target`, `secrets: inherit`) is a violation. Everything else is listed as a neutral change for
 * the reviewer. Comments and formatting are not changes.
 */
import { isDeepStrictEqual } from 'node:util';
import { isNode, isScalar, type Node } from 'yaml';
import { parseWorkflowFile, workflowFileKind } from '../analysis/parse';
import {
  jobsOf,
  mapEntries,
  mapGet,
  mapPair,
  rootMap,
  scalarText,
  stepsOf,
  stepsOfJob,
  triggersOf,
  type JobView,
  type StepView,
  type WorkflowFile,
} from '../analysis/rule';
import { compareGrants, describeGrant, type PermissionGrant, readPermissionGrant, type ScopeChange } from './permissions';
import { matchSteps, stepLabel } from './step-matching';
import type { CiWorkflowComparison, NeutralChange, NeutralChangeKind, PatchViolation, ViolationKind } from './types';

/** Keys whose changes are reported in detail elsewhere; other changed keys are listed in one neutral entry. */
const JOB_KEYS_CHECKED_SEPARATELY = new Set(['steps', 'permissions']);
const WORKFLOW_KEYS_CHECKED_SEPARATELY = new Set(['on', 'jobs', 'permissions']);
const MAX_SCOPES_LISTED = 5;

class ComparisonReport {
  readonly violations: PatchViolation[] = [];
  readonly neutralChanges: NeutralChange[] = [];

  constructor(private readonly path: string) {}

  result(): CiWorkflowComparison {
    return { violations: this.violations, neutralChanges: this.neutralChanges };
  }

  violation(kind: ViolationKind, message: string, location?: string): void {
    this.violations.push({ kind, message, path: this.path, ...(location === undefined ? {} : { location }) });
  }

  neutral(kind: NeutralChangeKind, message: string, location?: string): void {
    this.neutralChanges.push({ kind, message, path: this.path, ...(location === undefined ? {} : { location }) });
  }
}

/** A node as plain JS (aliases resolved), for comparisons that ignore formatting, comments and key order. */
function plain(file: WorkflowFile, node: unknown): unknown {
  return isNode(node) ? node.toJS(file.doc) : (node ?? null);
}

/** Keys of two maps whose values differ, sorted; `skip` keys are left out. */
function changedKeys(beforeFile: WorkflowFile, beforeNode: Node, afterFile: WorkflowFile, afterNode: Node, skip: ReadonlySet<string>): string[] {
  const keys = new Set([...mapEntries(beforeNode), ...mapEntries(afterNode)].map((entry) => entry.key));
  return [...keys]
    .filter((key) => !skip.has(key) && !isDeepStrictEqual(plain(beforeFile, mapGet(beforeNode, key)), plain(afterFile, mapGet(afterNode, key))))
    .sort();
}

/** `if: false` in any of its spellings: the job or step never runs. */
function isDisabled(node: Node): boolean {
  const condition = mapGet(node, 'if');
  if (isScalar(condition) && condition.value === false) return true;
  const text = scalarText(condition)?.replace(/\s+/g, '');
  return text === 'false' || text === '${{false}}';
}

function permissionGrantOf(node: Node | undefined): PermissionGrant {
  return readPermissionGrant(mapPair(node, 'permissions') !== undefined, mapGet(node, 'permissions'));
}

function scopeList(changes: readonly ScopeChange[]): string {
  const shown = changes.slice(0, MAX_SCOPES_LISTED).map((change) => `${change.scope} ${change.from} -> ${change.to}`);
  return changes.length > MAX_SCOPES_LISTED ? `${shown.join(', ')} and ${changes.length - MAX_SCOPES_LISTED} more` : shown.join(', ');
}

function comparePermissions(report: ComparisonReport, where: string, location: string, before: PermissionGrant, after: PermissionGrant): void {
  const { widened, narrowed } = compareGrants(before, after);
  const change = `from ${describeGrant(before)} to ${describeGrant(after)}`;
  if (widened.length > 0) report.violation('permissions-widened', `${where} permissions widened ${change} (${scopeList(widened)})`, location);
  else if (narrowed.length > 0) report.neutral('permissions-narrowed', `${where} permissions narrowed ${change}`, location);
}

function compareSteps(
  report: ComparisonReport,
  beforeFile: WorkflowFile,
  afterFile: WorkflowFile,
  beforeSteps: readonly StepView[],
  afterSteps: readonly StepView[],
  where: string,
  stepsLocation: string,
): void {
  const matching = matchSteps(beforeSteps, afterSteps);
  for (const step of matching.removed) {
    report.violation('step-removed', `${where}: step ${stepLabel(step)} was removed`, `${stepsLocation}[${step.index}]`);
  }
  for (const step of matching.added) report.neutral('step-added', `${where}: step ${stepLabel(step)} was added`, `${stepsLocation}[${step.index}]`);
  let previousAfterIndex = -1;
  let reordered = false;
  for (const { before, after } of matching.pairs) {
    if (after.index < previousAfterIndex) reordered = true;
    previousAfterIndex = after.index;
    const location = `${stepsLocation}[${after.index}]`;
    if (isDisabled(after.node) && !isDisabled(before.node)) {
      report.violation('step-disabled', `${where}: step ${stepLabel(before)} now has \`if: false\` and never runs`, location);
    }
    const keys = changedKeys(beforeFile, before.node, afterFile, after.node, new Set());
    if (keys.length > 0) report.neutral('step-changed', `${where}: step ${stepLabel(before)} changed (${keys.join(', ')})`, location);
  }
  if (reordered) report.neutral('steps-reordered', `${where}: steps were reordered`, stepsLocation);
}

function compareTriggers(report: ComparisonReport, beforeFile: WorkflowFile | undefined, afterFile: WorkflowFile): void {
  const before = beforeFile ? triggersOf(beforeFile) : new Map<string, { config: Node | null }>();
  const after = triggersOf(afterFile);
  for (const name of before.keys()) {
    if (!after.has(name)) report.violation('trigger-removed', `trigger \`${name}\` was removed`, `on.${name}`);
  }
  for (const [name, { config }] of after) {
    const previous = before.get(name);
    if (!previous) {
      if (name === 'pull_request_target') {
        report.violation(
          'pull-request-target-added',
          'adds the `pull_request_target` trigger: runs with secrets and a write token on pull requests from forks',
          `on.${name}`,
        );
      } else if (beforeFile) {
        report.neutral('trigger-added', `trigger \`${name}\` was added`, `on.${name}`);
      }
    } else if (beforeFile && !isDeepStrictEqual(plain(beforeFile, previous.config), plain(afterFile, config))) {
      report.neutral('trigger-changed', `trigger \`${name}\` configuration changed`, `on.${name}`);
    }
  }
}

function checkNewSecretsInherit(report: ComparisonReport, beforeJob: JobView | undefined, afterJob: JobView): void {
  const inherits = (job: JobView | undefined): boolean => scalarText(mapGet(job?.node, 'secrets')) === 'inherit';
  if (inherits(afterJob) && !inherits(beforeJob)) {
    report.violation(
      'secrets-inherit-added',
      `job \`${afterJob.id}\` now passes every secret to the called workflow (\`secrets: inherit\`)`,
      `jobs.${afterJob.id}.secrets`,
    );
  }
}

function compareJobs(report: ComparisonReport, beforeFile: WorkflowFile | undefined, afterFile: WorkflowFile): void {
  const beforeJobs = new Map((beforeFile ? jobsOf(beforeFile) : []).map((job) => [job.id, job]));
  const afterJobs = jobsOf(afterFile);
  const afterIds = new Set(afterJobs.map((job) => job.id));
  const beforeWorkflowGrant = beforeFile ? permissionGrantOf(rootMap(beforeFile)) : undefined;
  const afterWorkflowGrant = permissionGrantOf(rootMap(afterFile));

  for (const id of beforeJobs.keys()) {
    if (!afterIds.has(id)) report.violation('job-removed', `job \`${id}\` was removed`, `jobs.${id}`);
  }
  for (const afterJob of afterJobs) {
    const beforeJob = beforeJobs.get(afterJob.id);
    checkNewSecretsInherit(report, beforeJob, afterJob);
    const location = `jobs.${afterJob.id}`;
    const hasOwnPermissions = mapPair(afterJob.node, 'permissions') !== undefined;
    if (!beforeFile || !beforeWorkflowGrant || !beforeJob) {
      if (beforeWorkflowGrant) {
        // A new job is judged against the token a job of this workflow got before the patch.
        if (hasOwnPermissions) {
          comparePermissions(report, `new job \`${afterJob.id}\``, `${location}.permissions`, beforeWorkflowGrant, permissionGrantOf(afterJob.node));
        }
        report.neutral('job-added', `job \`${afterJob.id}\` was added`, location);
      }
      continue;
    }
    if (isDisabled(afterJob.node) && !isDisabled(beforeJob.node)) {
      report.violation('job-disabled', `job \`${afterJob.id}\` now has \`if: false\` and never runs`, `${location}.if`);
    }
    // A job without its own block inherits the workflow's, whose change is reported once at workflow level.
    if (hasOwnPermissions || mapPair(beforeJob.node, 'permissions') !== undefined) {
      const effective = (job: JobView, workflowGrant: PermissionGrant): PermissionGrant =>
        mapPair(job.node, 'permissions') !== undefined ? permissionGrantOf(job.node) : workflowGrant;
      comparePermissions(
        report,
        `job \`${afterJob.id}\``,
        `${location}.permissions`,
        effective(beforeJob, beforeWorkflowGrant),
        effective(afterJob, afterWorkflowGrant),
      );
    }
    compareSteps(report, beforeFile, afterFile, stepsOfJob(beforeJob), stepsOfJob(afterJob), `job \`${afterJob.id}\``, `${location}.steps`);
    const keys = changedKeys(beforeFile, beforeJob.node, afterFile, afterJob.node, JOB_KEYS_CHECKED_SEPARATELY);
    if (keys.length > 0) report.neutral('job-changed', `job \`${afterJob.id}\` changed (${keys.join(', ')})`, location);
  }
}

function compareWorkflow(report: ComparisonReport, beforeFile: WorkflowFile | undefined, afterFile: WorkflowFile): void {
  compareTriggers(report, beforeFile, afterFile);
  const beforeRoot = beforeFile ? rootMap(beforeFile) : undefined;
  const afterRoot = rootMap(afterFile);
  if (beforeFile && beforeRoot) {
    comparePermissions(report, 'workflow-level', 'permissions', permissionGrantOf(beforeRoot), permissionGrantOf(afterRoot));
  }
  compareJobs(report, beforeFile, afterFile);
  if (beforeFile && beforeRoot && afterRoot) {
    const keys = changedKeys(beforeFile, beforeRoot, afterFile, afterRoot, WORKFLOW_KEYS_CHECKED_SEPARATELY);
    if (keys.length > 0) report.neutral('workflow-changed', `workflow settings changed (${keys.join(', ')})`);
  }
}

/**
 * Compares one CI file (a workflow, or a composite action, by its path) before and after a patch. `null` means
 * the file does not exist on that side. A deleted file is always a violation: its jobs or steps are lost.
 */
export function compareCiWorkflows(beforeText: string | null, afterText: string | null, path: string): CiWorkflowComparison {
  const report = new ComparisonReport(path);
  const kind = workflowFileKind(path) ?? 'workflow';
  const beforeParsed = beforeText === null ? undefined : parseWorkflowFile(path, beforeText, kind);

  if (afterText === null) {
    if (beforeParsed) {
      const lost = kind === 'workflow' ? jobsOf(beforeParsed).map((job) => `\`${job.id}\``) : [];
      report.violation('file-deleted', lost.length > 0 ? `the file is deleted, and with it jobs ${lost.join(', ')}` : 'the file is deleted');
    }
    return report.result();
  }
  const afterFile = parseWorkflowFile(path, afterText, kind);
  const firstError = afterFile.doc.errors[0];
  if (firstError) {
    report.violation('invalid-yaml', `the patched file is not valid YAML: ${firstError.message.split('\n')[0] ?? ''}`);
    return report.result();
  }
  let beforeFile = beforeParsed;
  if (beforeFile && beforeFile.doc.errors.length > 0) {
    report.neutral('before-invalid-yaml', 'the file was not valid YAML before the patch; it is checked as a new file');
    beforeFile = undefined;
  } else if (!beforeFile) {
    report.neutral('file-added', 'the file is new');
  }

  if (kind === 'action') {
    if (beforeFile) compareSteps(report, beforeFile, afterFile, stepsOf(beforeFile), stepsOf(afterFile), 'action', 'runs.steps');
  } else {
    compareWorkflow(report, beforeFile, afterFile);
  }
  return report.result();
}
