/**
 * How many Guardian approvals a patch needs, judged from what it changes, not only from what its author asked.
 * It lives in src/patching beside the safety report and the permission grants it reuses: like the test stages it
 * reads the changed files before and after the patch, but at creation, and it is pure, so the API computes it for
 * every new patch and an agent policy raises it with its own minimums (ApprovalMinimums).
 *
 * A patch is risky (2 approvals by default) when a fix it applies is `unsafe`; when it changes `permissions:`
 * anywhere (workflow or job level, added, removed or changed); when it adds a third-party action, reusable
 * workflow or container image or moves one to another ref; when a workflow it changes is triggered by
 * `pull_request_target` or `workflow_run`; and when its effect cannot be judged (a file that is not a CI
 * workflow, YAML that does not parse, a diff that does not apply, a repository that cannot be read). Otherwise it
 * is safe (1 approval). First-party, so never a reason: actions of GitHub's own owners `actions` and `github`, and
 * local `./` actions, whose code sits in the repository itself; every other owner and every docker image is
 * third-party. A policy may raise both numbers, never lower them; the request's quorum is a minimum too.
 */
import { isScalar, type Node } from 'yaml';
import { parseWorkflowFile, workflowFileKind } from '../analysis/parse';
import { jobsOf, mapEntries, mapGet, mapPair, parseActionRef, rootMap, scalarText, stepsOf, triggersOf, type WorkflowFile } from '../analysis/rule';
import type { ApprovalMinimums, ApprovalSpec, ResolvedFinding } from '../domain/types';
import { describeGrant, type PermissionGrant, readPermissionGrant } from './permissions';
import type { PatchedFile } from './safety-report';

/** Approvals when nothing is risky, and when something is; a policy can only raise them. */
export const DEFAULT_QUORUM = { safe: 1, risky: 2 } as const;

/** Owners whose actions GitHub itself maintains. */
export const FIRST_PARTY_ACTION_OWNERS: readonly string[] = ['actions', 'github'];

/** Triggers that run a workflow with the repository's secrets on events outsiders can cause. */
const PRIVILEGED_TRIGGERS = ['pull_request_target', 'workflow_run'] as const;

/** Reasons listed one by one; a patch over hundreds of targets names the rest by count. */
const MAX_REASONS = 20;

/** A policy's say on approvals (issue 11's agent policies): minimums above the defaults, and distinct groups. */
/** A fix a generated patch applies, as far as the quorum cares. */
export type AppliedFixSafety = Pick<ResolvedFinding, 'ruleId' | 'file' | 'fix' | 'safety'>;

/** What a patch does on one target. */
export interface TargetChanges {
  /** The target's name, as reasons show it. */
  target: string;
  /** The changed files before and after the patch, or why they could not be read. */
  files: readonly PatchedFile[] | { unreadable: string };
  /** The fixes a patch generated from findings applies there (none for a hand-written diff). */
  fixes?: readonly AppliedFixSafety[];
}

export interface QuorumRequest {
  targets: readonly TargetChanges[];
  /** The request's `approval.quorum`: the least the patch needs whatever it changes. */
  requested: number;
  /** Whether the request asks for Guardians of distinct groups. */
  distinctGroups?: boolean;
  policy?: ApprovalMinimums;
}

export interface RequiredQuorum {
  quorum: number;
  /** Why the quorum is what it is, each naming the target and file, for people. */
  reasons: string[];
  distinctGroups: boolean;
}

export function requiredQuorum(request: QuorumRequest): RequiredQuorum {
  const { policy = {} } = request;
  const safe = Math.max(DEFAULT_QUORUM.safe, policy.minimumSafe ?? 0);
  const risky = Math.max(DEFAULT_QUORUM.risky, safe, policy.minimumRisky ?? 0);
  const risks = request.targets.flatMap(targetRisks);
  const computed = risks.length > 0 ? risky : safe;
  const quorum = Math.max(computed, request.requested);
  const reasons = risks.length > 0 ? boundedList(risks) : [noRiskReason(request.targets)];
  const defaultFor = risks.length > 0 ? DEFAULT_QUORUM.risky : DEFAULT_QUORUM.safe;
  if (computed > defaultFor) reasons.push(`the policy requires ${computed} approvals for a ${risks.length > 0 ? 'risky' : 'safe'} patch`);
  if (request.requested > computed) reasons.push(`the request asks for ${request.requested} approvals`);
  return { quorum, reasons, distinctGroups: request.distinctGroups === true || policy.distinctGroups === true };
}

/** What a patch request says about approval. */
export interface RequestedApproval {
  quorum: number;
  timeoutSeconds: number;
  distinctGroups?: boolean | undefined;
}

/** The approval a new patch waits for: the request's timeout, and the quorum its changes require, with why. */
export function approvalSpec(requested: RequestedApproval, targets: readonly TargetChanges[], policy?: ApprovalMinimums): ApprovalSpec {
  const required = requiredQuorum({ targets, requested: requested.quorum, distinctGroups: requested.distinctGroups === true, ...(policy ? { policy } : {}) });
  return {
    quorum: required.quorum,
    timeoutSeconds: requested.timeoutSeconds,
    requestedQuorum: requested.quorum,
    reasons: required.reasons,
    ...(required.distinctGroups ? { distinctGroups: true } : {}),
  };
}

function boundedList(reasons: readonly string[]): string[] {
  const unique = [...new Set(reasons)];
  if (unique.length <= MAX_REASONS) return unique;
  return [...unique.slice(0, MAX_REASONS - 1), `and ${unique.length - MAX_REASONS + 1} more risky changes`];
}

function noRiskReason(targets: readonly TargetChanges[]): string {
  const fixes = targets.reduce((count, target) => count + (target.fixes?.length ?? 0), 0);
  const safeFixes = fixes === 1 ? 'its fix is safe' : `all ${fixes} fixes are safe`;
  const what = fixes > 0 ? `${safeFixes}, and the patch` : 'the patch';
  return `no risky change: ${what} changes no permissions, adds or moves no third-party action and touches no workflow triggered by ${PRIVILEGED_TRIGGERS.join(' or ')}`;
}

function targetRisks(changes: TargetChanges): string[] {
  const named = (reason: string): string => `${changes.target}: ${reason}`;
  const unsafeFixes = (changes.fixes ?? []).filter((fix) => fix.safety === 'unsafe').map((fix) => named(`the fix "${fix.fix}" (${fix.ruleId}) in ${fix.file} is unsafe: it may change what the workflow does`));
  if ('unreadable' in changes.files) return [...unsafeFixes, named(`${changes.files.unreadable}, so the patch's risk is unknown`)];
  return [...unsafeFixes, ...changes.files.flatMap(fileRisks).map(named)];
}

/** The risks of one changed file, each starting with its path. */
function fileRisks(file: PatchedFile): string[] {
  const kind = workflowFileKind(file.path);
  if (kind === undefined) return [`${file.path} is not a CI workflow or action file, so what its change does is not judged`];
  if (file.after === null) return [`${file.path} is deleted`];
  const after = parseWorkflowFile(file.path, file.after, kind);
  if (after.doc.errors.length > 0) return [`${file.path} does not parse as YAML after the patch`];
  const before = file.before === null ? undefined : parseWorkflowFile(file.path, file.before, kind);
  if (before && before.doc.errors.length > 0) return [`${file.path} did not parse as YAML before the patch, so what changes is unknown`];
  return [...permissionChanges(before, after), ...thirdPartyChanges(before, after), ...privilegedTriggers(before, after)].map((risk) => `${file.path} ${risk}`);
}

// ---------------------------------------------------------------------------------------------------------------
// permissions
// ---------------------------------------------------------------------------------------------------------------

/** Every `permissions:` place of a workflow by where it is (actions have none), present or not. */
function permissionSites(file: WorkflowFile | undefined): Map<string, PermissionGrant> {
  const sites = new Map<string, PermissionGrant>();
  if (!file || file.kind !== 'workflow') return sites;
  const grantOf = (node: Node | undefined): PermissionGrant => readPermissionGrant(mapPair(node, 'permissions') !== undefined, mapGet(node, 'permissions'));
  sites.set('at workflow level', grantOf(rootMap(file)));
  for (const job of jobsOf(file)) sites.set(`of job ${job.id}`, grantOf(job.node));
  return sites;
}

/** A grant in a form where equal grants read the same (scope order does not matter, spelling does not). */
function canonical(grant: PermissionGrant): string {
  return grant.kind === 'scopes' ? JSON.stringify([...grant.scopes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : describeGrant(grant);
}

function permissionChanges(before: WorkflowFile | undefined, after: WorkflowFile): string[] {
  const beforeSites = permissionSites(before);
  const afterSites = permissionSites(after);
  const absent: PermissionGrant = { kind: 'default' };
  return [...new Set([...beforeSites.keys(), ...afterSites.keys()])].flatMap((where) => {
    const from = beforeSites.get(where) ?? absent;
    const to = afterSites.get(where) ?? absent;
    return canonical(from) === canonical(to) ? [] : [`changes permissions ${where} (from ${describeGrant(from)} to ${describeGrant(to)})`];
  });
}

// ---------------------------------------------------------------------------------------------------------------
// third-party actions and images
// ---------------------------------------------------------------------------------------------------------------

/** A third-party reference: what kind of thing, what it names without its ref, and the whole text. */
interface ThirdPartyRef {
  kind: 'action' | 'reusable workflow' | 'image';
  name: string;
  text: string;
}

/** `node:20@sha256:…` → `node`; a port in a registry host (`host:5000/img:1`) stays. */
function imageName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

function usesRef(raw: string, kind: 'action' | 'reusable workflow'): ThirdPartyRef | undefined {
  const ref = parseActionRef(raw);
  if (ref.kind === 'local') return undefined;
  if (ref.kind === 'docker') return { kind: 'image', name: `docker://${imageName(ref.image ?? '')}`, text: ref.raw };
  if (FIRST_PARTY_ACTION_OWNERS.includes((ref.owner ?? '').toLowerCase())) return undefined;
  return { kind, name: [ref.owner, ref.repo, ref.subPath].filter(Boolean).join('/'), text: ref.raw };
}

function imageRef(node: unknown): ThirdPartyRef | undefined {
  const image = scalarText(node)?.trim();
  return image ? { kind: 'image', name: imageName(image), text: image } : undefined;
}

/** Steps' `uses:`, reusable workflow jobs, job containers and services, and a docker action's image. */
function thirdPartyRefs(file: WorkflowFile | undefined): ThirdPartyRef[] {
  if (!file) return [];
  const refs: Array<ThirdPartyRef | undefined> = stepsOf(file).map((step) => {
    const uses = scalarText(mapGet(step.node, 'uses'));
    return uses === undefined ? undefined : usesRef(uses, 'action');
  });
  for (const job of jobsOf(file)) {
    const uses = scalarText(mapGet(job.node, 'uses'));
    if (uses !== undefined) refs.push(usesRef(uses, 'reusable workflow'));
    const container = mapGet(job.node, 'container');
    refs.push(imageRef(isScalar(container) ? container : mapGet(container, 'image')));
    for (const service of mapEntries(mapGet(job.node, 'services'))) refs.push(imageRef(mapGet(service.value, 'image')));
  }
  const actionImage = scalarText(mapGet(mapGet(rootMap(file), 'runs'), 'image'));
  if (file.kind === 'action' && actionImage?.startsWith('docker://')) refs.push(usesRef(actionImage, 'action'));
  return refs.filter((ref): ref is ThirdPartyRef => ref !== undefined);
}

function thirdPartyChanges(before: WorkflowFile | undefined, after: WorkflowFile): string[] {
  const previous = thirdPartyRefs(before);
  const known = new Set(previous.map((ref) => `${ref.kind} ${ref.text}`));
  const reasons = thirdPartyRefs(after)
    .filter((ref) => !known.has(`${ref.kind} ${ref.text}`))
    .map((ref) => {
      const moved = [...new Set(previous.filter((old) => old.kind === ref.kind && old.name === ref.name).map((old) => old.text))];
      return moved.length > 0 ? `changes the third-party ${ref.kind} ${moved.join(', ')} to ${ref.text}` : `adds the third-party ${ref.kind} ${ref.text}`;
    });
  return [...new Set(reasons)];
}

// ---------------------------------------------------------------------------------------------------------------
// triggers
// ---------------------------------------------------------------------------------------------------------------

function privilegedTriggers(before: WorkflowFile | undefined, after: WorkflowFile): string[] {
  if (after.kind !== 'workflow') return [];
  const triggers = new Set([...(before ? triggersOf(before).keys() : []), ...triggersOf(after).keys()]);
  const found = PRIVILEGED_TRIGGERS.filter((trigger) => triggers.has(trigger));
  return found.length > 0 ? [`is a workflow triggered by ${found.join(' and ')}, which runs with secrets on events outsiders cause`] : [];
}
