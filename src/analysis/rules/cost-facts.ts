/**
 * Facts about jobs, steps and triggers shared by the performance and efficiency rules (what a step runs, which
 * action and major version it uses, whether a workflow file publishes something).
 */
import { isMap, isScalar, type Node } from 'yaml';
import {
  artifactPublishingActions,
  goreleaserAction,
  imagePushingActions,
  mentionsPublishingCommand,
  releaseActions,
  releaseEvents,
} from '../knowledge/publishing';
import { actionName, usesOf, type UsesSite } from '../security-sites';
import {
  type ActionRef,
  type JobView,
  jobsOf,
  mapEntries,
  mapGet,
  mapPair,
  type RepositoryView,
  rootMap,
  scalarText,
  seqItems,
  stepsOf,
  stepsOfJob,
  type StepView,
  stringList,
  triggersOf,
  type WorkflowFile,
} from '../rule';

/** The `uses:` of a step with a name to compare against. */
export interface StepAction extends UsesSite {
  /** Lower-case `owner/repo[/sub/path]` for remote actions, the raw text otherwise. */
  name: string;
}

export function stepAction(step: StepView): StepAction | undefined {
  const site = usesOf(step.node);
  return site === undefined ? undefined : { ...site, name: actionName(site.ref) ?? site.ref.raw };
}

/** The action.yml a local `uses: ./path` points at, when the repository view has it. */
export function localActionFile(repo: RepositoryView, ref: ActionRef): WorkflowFile | undefined {
  if (ref.kind !== 'local') return undefined;
  const dir = ref.raw.replace(/^\.\//, '').replace(/\/+$/, '');
  return repo.workflowFiles.find((f) => f.path === `${dir}/action.yml` || f.path === `${dir}/action.yaml`);
}

/** The steps of the composite action a local `uses: ./path` points at, when the repository view has its file. */
export function localActionSteps(repo: RepositoryView, action: StepAction): StepView[] | undefined {
  const file = localActionFile(repo, action.ref);
  return file === undefined ? undefined : stepsOf(file);
}

/** Every scalar value under a node, depth first (`with:`, `env:` and matrix values that carry commands or names). */
export function scalarValues(node: Node | null | undefined): string[] {
  if (node === null || node === undefined) return [];
  if (isScalar(node)) return [scalarText(node) ?? ''];
  if (isMap(node)) return mapEntries(node).flatMap(({ value }) => scalarValues(value));
  return seqItems(node).flatMap(scalarValues);
}

/** JSON with sorted keys, so maps written in another key order compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The `run:` script of a step, or undefined for `uses:` steps. */
export function stepScript(step: StepView): string | undefined {
  return scalarText(mapGet(step.node, 'run'));
}

/** Every `run:` script of a job, joined by newlines. */
export function jobScripts(job: JobView): string {
  return stepsOfJob(job)
    .flatMap((step) => stepScript(step) ?? [])
    .join('\n');
}

/** True when the job runs steps itself (not a call to a reusable workflow). */
export function jobHasSteps(job: JobView): boolean {
  return mapGet(job.node, 'steps') !== undefined && mapGet(job.node, 'uses') === undefined;
}

/** True when `runs-on` names a self-hosted runner (label or group); expressions count as unknown (false). */
export function isSelfHostedJob(job: JobView): boolean {
  const runsOn = mapGet(job.node, 'runs-on');
  const labels = [...stringList(runsOn), ...stringList(mapGet(runsOn, 'labels'))];
  return labels.some((label) => label.toLowerCase() === 'self-hosted') || mapGet(runsOn, 'group') !== undefined;
}

/** The source text after a node up to the end of its line (where a trailing `# comment` sits). */
export function restOfLine(file: WorkflowFile, node: Node): string {
  const end = node.range?.[1];
  if (end === undefined) return '';
  const lineEnd = file.text.indexOf('\n', end);
  return file.text.slice(end, lineEnd < 0 ? undefined : lineEnd);
}

/** The pull_request activity types GitHub uses when `types` is omitted. */
const defaultPullRequestTypes = ['opened', 'synchronize', 'reopened'];

/** True when the workflow has a `pull_request` trigger that runs again for each new commit (`synchronize`). */
export function pullRequestRunsPerCommit(file: WorkflowFile): boolean {
  const pullRequest = triggersOf(file).get('pull_request');
  if (pullRequest === undefined) return false;
  const types = mapGet(pullRequest.config, 'types');
  return (types === undefined ? defaultPullRequestTypes : stringList(types)).includes('synchronize');
}

const releaseWords = /release|publish|deploy/i;

/** Actions whose mere use marks a publishing workflow file (whatever their inputs say). */
const publishingActionNames = [...artifactPublishingActions, ...releaseActions, goreleaserAction];

/**
 * True when the workflow file publishes or deploys: release-like triggers (release, tag pushes), a release-like
 * file name or `name:`, or any step that uses a publishing action or runs a publishing command. Deliberately broad:
 * the rules that call it suggest caches, and caches in publishing runs are a cache-poisoning risk.
 */
export function isPublishingWorkflowFile(file: WorkflowFile): boolean {
  const triggers = triggersOf(file);
  if ([...triggers.keys()].some((event) => releaseEvents.has(event))) return true;
  const push = triggers.get('push')?.config;
  if (mapPair(push, 'tags') !== undefined || mapPair(push, 'tags-ignore') !== undefined) return true;
  const fileName = file.path.split('/').pop() ?? '';
  if (releaseWords.test(fileName) || releaseWords.test(scalarText(mapGet(rootMap(file), 'name')) ?? '')) return true;
  return publishesSomething(file);
}

function publishesSomething(file: WorkflowFile): boolean {
  const root = rootMap(file);
  const jobs = mapGet(root, 'jobs');
  if (jobs === undefined) return false;
  // Scanning the raw text of the jobs is cheap and catches steps hidden in odd shapes too.
  const start = jobs.range?.[0] ?? 0;
  const end = jobs.range?.[1] ?? file.text.length;
  const text = file.text.slice(start, end);
  if (mentionsPublishingCommand(text)) return true;
  const lower = text.toLowerCase();
  if (publishingActionNames.some((action) => lower.includes(`${action}@`))) return true;
  return jobsOf(file).some((job) => stepsOfJob(job).some(pushesImage));
}

/** Image builds that push (or may push, when `push:` is an expression) to a registry. */
function pushesImage(step: StepView): boolean {
  const name = stepAction(step)?.name;
  if (name === undefined || !imagePushingActions.has(name)) return false;
  const inputs = mapGet(step.node, 'with');
  const push = scalarText(mapGet(inputs, 'push'));
  const outputs = scalarText(mapGet(inputs, 'outputs')) ?? '';
  return (push !== undefined && push !== 'false') || /push=(?!false)/.test(outputs);
}
