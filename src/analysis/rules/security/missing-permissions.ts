import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { type CommentedEntry, insertCommentedMap } from '../../edit/commented-pairs';
import {
  actionPermissionEntry,
  higherLevel,
  type InputCondition,
  passesJobToken,
  type PermissionLevel,
  type PermissionScope,
  tokenUsingCommands,
  unboundedActionReason,
} from '../../knowledge/action-permissions';
import {
  type ActionRef,
  type FixPlan,
  jobsOf,
  type JobView,
  mapGet,
  mapPair,
  type RepositoryView,
  rootMap,
  type Rule,
  type RuleContext,
  scalarText,
  stepsOf,
  stepsOfJob,
  type StepView,
  triggersOf,
  type WorkflowFile,
} from '../../rule';
import { actionName, containersOf, usesOf, withInput } from '../../security-sites';
import { localActionFile, scalarValues, stepScript } from '../cost-facts';

export const missingPermissionsRule: Rule = {
  id: 'missing-permissions',
  category: 'security',
  severity: 'medium',
  confidence: 'medium',
  appliesTo: ['workflow'],
  description: 'Workflows whose jobs run with the repository\'s default `GITHUB_TOKEN` permissions because no `permissions:` is set.',
  rationale:
    'Without a `permissions:` block, the job token gets the repository or organization default, which is read and ' +
    'write on every scope for repositories created before February 2023 and for many organizations. Any step, ' +
    'including a compromised dependency or a script injection, can then push code, publish releases or approve ' +
    'pull requests. Declaring permissions pins the token to what the workflow needs, independent of settings that ' +
    'can change. A job is covered by a top-level `permissions:` or its own. Jobs calling a reusable workflow of the ' +
    'same repository are also covered when that workflow declares permissions for all its jobs; remote reusable ' +
    'workflows cannot be checked, so their calling jobs are reported. Reusable workflows triggered only by ' +
    '`workflow_call` are not reported: their token is capped by the calling job, which is where the permissions ' +
    'belong.',
  remediation:
    'Add `permissions: contents: read` (or `permissions: {}`) at the top of the workflow and grant write scopes only ' +
    'in the jobs that need them.',
  examples: {
    bad: [
      'on: push',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: make test',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'permissions:',
      '  contents: read',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: make test',
      '',
    ].join('\n'),
  },
  fixes: {
    safety: 'safe',
    description:
      'Adds a least-privilege `permissions:` block, each scope commented with the steps that need it, from a dated ' +
      'table of what popular actions need (src/analysis/knowledge/action-permissions.ts): one block for the workflow ' +
      'when its jobs need the same read scopes, else one per job. Safe because the table is the evidence; not offered ' +
      'when any step\'s needs are unknown (an action missing from the table, actions/github-script, `gh`, `git push`, ' +
      'API calls or the token passed to a script, reusable workflows). A repository script that pushes with the ' +
      'credential actions/checkout keeps is the one case it cannot see.',
  },
  check(ctx) {
    const root = rootMap(ctx.file);
    if (!root || mapPair(root, 'permissions')) return;
    const triggers = [...triggersOf(ctx.file).keys()];
    if (triggers.length > 0 && triggers.every((trigger) => trigger === 'workflow_call')) return;
    const jobs = jobsOf(ctx.file);
    const uncovered = jobs.filter((job) => !mapPair(job.node, 'permissions') && !calleeDeclaresPermissions(ctx, job));
    if (uncovered.length === 0) return;
    const anyJobDeclares = jobs.some((job) => mapPair(job.node, 'permissions'));
    if (!anyJobDeclares) {
      const anchor = mapPair(root, 'on')?.key ?? mapPair(root, 'jobs')?.key ?? root;
      ctx.report({
        node: anchor,
        message:
          `workflow has no \`permissions:\`, so ${uncovered.length === 1 ? 'its job runs' : `its ${uncovered.length} jobs run`} ` +
          'with the repository\'s default token permissions',
        ...fixOrNote(workflowFix(ctx, uncovered, uncovered.length === jobs.length)),
      });
      return;
    }
    for (const job of uncovered) {
      ctx.report({
        node: job.keyNode,
        message: `job \`${job.id}\` has no \`permissions:\` and the workflow sets none, so it runs with the repository's default token permissions`,
        ...fixOrNote(jobsFix(ctx, [job])),
      });
    }
  },
};

/** True when the job calls a reusable workflow of this repository that declares permissions for all of its jobs. */
function calleeDeclaresPermissions(ctx: RuleContext, job: JobView): boolean {
  const uses = usesOf(job.node);
  if (uses?.ref.kind !== 'local') return false;
  // `./path` and the self-repository form `$/path` both name a file of this repository.
  const calleePath = uses.ref.raw.replace(/^(?:\.\/|\$\/)/, '').split('@')[0];
  const callee = ctx.repo.workflowFiles.find((file) => file.path === calleePath);
  return callee !== undefined && declaresPermissionsForAllJobs(callee);
}

function declaresPermissionsForAllJobs(file: WorkflowFile): boolean {
  const root = rootMap(file);
  if (!root) return false;
  if (mapPair(root, 'permissions')) return true;
  const jobs = jobsOf(file);
  return jobs.length > 0 && jobs.every((job) => mapPair(job.node, 'permissions'));
}

// ---------------------------------------------------------------------------------------------------------------
// The fix: what each job's steps need of the token, from the knowledge table, written as a `permissions:` block.
// ---------------------------------------------------------------------------------------------------------------

/** The scopes a job needs, each with the steps (actions or commands) that need it at that level. */
type Grants = Map<PermissionScope, { level: PermissionLevel; sources: Set<string> }>;

/** A job's needs, or why they are unknown. */
type JobNeeds = { grants: Grants } | { unknown: string };

function fixOrNote(fix: FixPlan | { unknown: string }): { fix: FixPlan } | { unfixable: string } {
  return 'unknown' in fix ? { unfixable: `no \`permissions:\` added: ${fix.unknown}` } : { fix };
}

function stepLabel(step: StepView): string {
  return scalarText(mapGet(step.node, 'name')) ?? scalarText(mapGet(step.node, 'id')) ?? `#${step.index + 1}`;
}

function grant(grants: Grants, scope: PermissionScope, level: PermissionLevel, source: string): void {
  const current = grants.get(scope);
  const merged = higherLevel(current?.level, level);
  // The comment names what needs the granted level; a reader of `contents: write` wants the writer, not checkout.
  const sources = current === undefined || current.level === merged ? (current?.sources ?? new Set<string>()) : new Set<string>();
  if (current === undefined || level === merged) sources.add(source);
  grants.set(scope, { level: merged, sources });
}

function holds(step: StepView, when: InputCondition): boolean {
  return Object.entries(when).every(([input, condition]) => {
    const value = withInput(step.node, input);
    if (typeof condition === 'boolean') return (value !== undefined) === condition;
    return condition.test(scalarText(value) ?? '');
  });
}

/**
 * True when steps come through YAML aliases or merge keys (`steps: *common`, `- *checkout`, `<<: *defaults`): the
 * step views skip those, so what they need would be missed and the block would grant too little.
 */
function hidesSteps(owner: YAMLMap, stepsKey: string): boolean {
  if (mapPair(owner, '<<') !== undefined) return true;
  const steps = mapGet(owner, stepsKey);
  if (steps === undefined) return false;
  return !isSeq(steps) || steps.items.some((item) => !isMap(item) || mapPair(item, '<<') !== undefined);
}

/** Adds what one step needs to `grants`; returns why its needs are unknown instead, when they are. */
function addStepNeeds(repo: RepositoryView, step: StepView, grants: Grants, visited: Set<string>): string | undefined {
  const where = `step \`${stepLabel(step)}\``;
  const uses = usesOf(step.node);
  if (uses === undefined && mapPair(step.node, 'uses') !== undefined) return `${where} has a \`uses:\` that is not a plain value`;
  if (uses === undefined) {
    const script = stepScript(step) ?? '';
    const command = tokenUsingCommands.find(({ pattern }) => pattern.test(script));
    if (command !== undefined) return `${where} runs ${command.label}, whose needs depend on its arguments`;
    return passesJobToken(scalarValues(step.node).join('\n')) ? `${where} hands the job token to its script` : undefined;
  }
  if (uses.ref.kind === 'docker') {
    return passesJobToken(scalarValues(step.node).join('\n')) ? `${where} hands the job token to a container` : undefined;
  }
  if (uses.ref.kind === 'local') return addLocalActionNeeds(repo, uses.ref, where, grants, visited);
  const name = actionName(uses.ref) ?? uses.ref.raw;
  const unbounded = unboundedActionReason(name);
  if (unbounded !== undefined) return `${where} uses ${name}: ${unbounded}`;
  const entry = actionPermissionEntry(name);
  if (entry === undefined) return `${where} uses ${name}, whose token needs are not in the table`;
  const label = [uses.ref.owner, uses.ref.repo, uses.ref.subPath].filter((part) => part !== undefined && part !== '').join('/');
  const needs = [entry.needs, ...(entry.extra ?? []).filter(({ when }) => holds(step, when)).map(({ needs: extra }) => extra)];
  for (const permissions of needs) {
    for (const [scope, level] of Object.entries(permissions) as Array<[PermissionScope, PermissionLevel]>) grant(grants, scope, level, label);
  }
  return undefined;
}

/** A local composite action needs what its steps need; other local actions (JavaScript, Docker) are unknown. */
function addLocalActionNeeds(repo: RepositoryView, ref: ActionRef, where: string, grants: Grants, visited: Set<string>): string | undefined {
  const { raw } = ref;
  const file = localActionFile(repo, ref);
  if (file === undefined || scalarText(mapGet(mapGet(rootMap(file), 'runs'), 'using')) !== 'composite') return `${where} uses the local action ${raw}, whose code is not read`;
  if (passesJobToken(scalarValues(mapGet(rootMap(file), 'inputs')).join('\n'))) return `${where} uses the local action ${raw}, which takes the job token as an input`;
  if (visited.has(file.path)) return undefined;
  visited.add(file.path);
  const runs = mapGet(rootMap(file), 'runs');
  if (isMap(runs) && hidesSteps(runs, 'steps')) return `${where} uses the local action ${raw}, whose steps come through YAML aliases`;
  for (const inner of stepsOf(file)) {
    const unknown = addStepNeeds(repo, inner, grants, visited);
    if (unknown !== undefined) return `${where} uses the local action ${raw}, whose ${unknown}`;
  }
  return undefined;
}

function jobNeeds(ctx: RuleContext, job: JobView): JobNeeds {
  const callee = scalarText(mapGet(job.node, 'uses'));
  if (callee !== undefined) return { unknown: `job \`${job.id}\` calls the reusable workflow ${callee}, whose needs are not computed` };
  if (hidesSteps(job.node, 'steps')) return { unknown: `job \`${job.id}\` takes steps through YAML aliases or merge keys, which are not followed` };
  const steps = stepsOfJob(job);
  const env = [mapGet(rootMap(ctx.file), 'env'), mapGet(job.node, 'env')].flatMap(scalarValues).join('\n');
  if (passesJobToken(env) && steps.some((step) => mapGet(step.node, 'run') !== undefined)) {
    return { unknown: `job \`${job.id}\` hands the job token to every script through \`env:\`` };
  }
  const grants: Grants = new Map();
  // Pulling a GHCR image with the job token (`credentials: password: ${{ github.token }}`) needs packages: read.
  for (const site of containersOf(job)) {
    if (passesJobToken(scalarValues(mapGet(site.node, 'credentials')).join('\n'))) grant(grants, 'packages', 'read', `${site.name} image`);
  }
  for (const step of steps) {
    const unknown = addStepNeeds(ctx.repo, step, grants, new Set());
    if (unknown !== undefined) return { unknown: `${unknown} (job \`${job.id}\`)` };
  }
  return { grants };
}

function entriesOf(grants: Grants): CommentedEntry[] {
  return [...grants.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([scope, { level, sources }]) => ({ key: scope, value: level, comment: [...sources].join(', ') }));
}

const EMPTY_COMMENT = 'no step uses the job token';

function sameLevels(a: Grants, b: Grants): boolean {
  return a.size === b.size && [...a].every(([scope, { level }]) => b.get(scope)?.level === level);
}

/** Where a job's `permissions:` goes: beside `runs-on` like the other runner facts, else before `steps`. */
function jobPlacement(job: JobView): { after: string } | { before: string } | undefined {
  if (mapPair(job.node, 'runs-on')) return { after: 'runs-on' };
  return mapPair(job.node, 'steps') ? { before: 'steps' } : undefined;
}

/** The needs of every job, or the reasons some are unknown. */
function allNeeds(ctx: RuleContext, jobs: readonly JobView[]): Array<{ job: JobView; grants: Grants }> | { unknown: string } {
  const needs = jobs.map((job) => ({ job, needs: jobNeeds(ctx, job) }));
  const unknown = needs.flatMap(({ needs: item }) => ('unknown' in item ? [item.unknown] : []));
  if (unknown.length > 0) return { unknown: unknown.join('; ') };
  return needs.flatMap(({ job, needs: item }) => ('grants' in item ? [{ job, grants: item.grants }] : []));
}

/** Safe: every step's needs come from the table or are none (see the rule's `fixes`). */
function jobsFix(ctx: RuleContext, jobs: readonly JobView[]): FixPlan | { unknown: string } {
  const needs = allNeeds(ctx, jobs);
  if ('unknown' in needs) return needs;
  return {
    safety: 'safe',
    title: `Add least-privilege \`permissions:\` to job${jobs.length === 1 ? '' : 's'} ${jobs.map((job) => `\`${job.id}\``).join(', ')}`,
    edits: ({ file }) =>
      needs.map(({ job, grants }) => insertCommentedMap(file, job.node, 'permissions', entriesOf(grants), EMPTY_COMMENT, jobPlacement(job))),
  };
}

/**
 * One workflow-level block when every job is uncovered and all need the same scopes, and a write scope is not then
 * shared by several jobs (overbroad-permissions reports that); else one block per uncovered job. A workflow-level
 * block would also cap jobs covered by their called workflow, so those keep the per-job form.
 */
function workflowFix(ctx: RuleContext, uncovered: readonly JobView[], everyJobUncovered: boolean): FixPlan | { unknown: string } {
  const needs = allNeeds(ctx, uncovered);
  if ('unknown' in needs) return needs;
  const [first] = needs;
  const shared =
    first !== undefined &&
    everyJobUncovered &&
    needs.every(({ grants }) => sameLevels(grants, first.grants)) &&
    (needs.length === 1 || [...first.grants.values()].every(({ level }) => level === 'read'));
  if (!shared) return jobsFix(ctx, uncovered);
  const merged: Grants = new Map();
  for (const { grants } of needs) {
    for (const [scope, { level, sources }] of grants) for (const source of sources) grant(merged, scope, level, source);
  }
  return {
    safety: 'safe',
    title: 'Add a least-privilege `permissions:` block to the workflow',
    edits: ({ file }) => {
      const root = rootMap(file);
      if (!isMap(root)) return { unfixable: 'the workflow is not a map' };
      // After the triggers, where readers look for what a run may do; before `jobs` when `on` is missing.
      const placement = isScalar(mapPair(root, 'on')?.key) ? { after: 'on' } : { before: 'jobs' };
      return [insertCommentedMap(file, root, 'permissions', entriesOf(merged), EMPTY_COMMENT, placement)];
    },
  };
}
