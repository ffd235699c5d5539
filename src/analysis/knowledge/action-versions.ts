/**
 * Versions of popular actions: the Node.js runtime (`runs.using`) of each major version's latest release, and
 * versions GitHub has retired outright. Facts as of the reviewer's knowledge of the actions' release notes and
 * GitHub's deprecation notices (reviewed 2026-11-24). Majors whose runtime we are not sure of are left out, so a
 * missing entry means "unknown", never "fine".
 */
import type { Node } from 'yaml';
import type { ActionRef, WorkflowFile } from '../rule';

export const reviewed = '2026-11-24';

export type NodeRuntime = 'node12' | 'node16' | 'node20' | 'node24';

/** Runtimes GitHub has removed from the runner: actions declaring them are forced onto a newer Node.js. */
export const removedNodeRuntimes: ReadonlySet<string> = new Set(['node12', 'node16']);

/** `runs.using` of the latest release of each major version, by lower-case `owner/repo`. */
export const actionRuntimes: ReadonlyMap<string, Readonly<Record<number, NodeRuntime>>> = new Map<string, Record<number, NodeRuntime>>([
  ['actions/checkout', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node20', 5: 'node24', 6: 'node24' }],
  ['actions/setup-node', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node20', 5: 'node24', 6: 'node24' }],
  ['actions/setup-python', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node16', 5: 'node20', 6: 'node24' }],
  ['actions/setup-java', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node20', 5: 'node24' }],
  ['actions/setup-go', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node20', 5: 'node20', 6: 'node24' }],
  ['actions/setup-dotnet', { 1: 'node12', 2: 'node16', 3: 'node16', 4: 'node20', 5: 'node24' }],
  ['actions/cache', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node20', 5: 'node24' }],
  ['actions/upload-artifact', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node20', 6: 'node24' }],
  ['actions/download-artifact', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node20', 6: 'node24' }],
  ['actions/github-script', { 1: 'node12', 2: 'node12', 3: 'node12', 4: 'node12', 5: 'node12', 6: 'node16', 7: 'node20', 8: 'node24' }],
  ['actions/labeler', { 4: 'node16', 5: 'node20' }],
  ['actions/create-release', { 1: 'node12' }],
  ['actions/upload-release-asset', { 1: 'node12' }],
  ['actions/setup-ruby', { 1: 'node12' }],
  ['actions/configure-pages', { 1: 'node16', 2: 'node16', 3: 'node16', 4: 'node20', 5: 'node20' }],
  ['actions/deploy-pages', { 1: 'node16', 2: 'node16', 4: 'node20' }],
  ['actions/dependency-review-action', { 2: 'node16', 3: 'node16', 4: 'node20' }],
  ['github/codeql-action', { 1: 'node12', 2: 'node16', 3: 'node20', 4: 'node24' }],
  ['docker/setup-buildx-action', { 1: 'node12', 2: 'node16', 3: 'node20' }],
  ['docker/setup-qemu-action', { 1: 'node12', 2: 'node16', 3: 'node20' }],
  ['docker/login-action', { 1: 'node12', 2: 'node16', 3: 'node20' }],
  ['docker/build-push-action', { 1: 'node12', 2: 'node12', 3: 'node16', 4: 'node16', 5: 'node20', 6: 'node20' }],
  ['docker/metadata-action', { 3: 'node12', 4: 'node16', 5: 'node20' }],
  ['codecov/codecov-action', { 1: 'node12', 3: 'node16', 4: 'node20' }],
  ['peter-evans/create-pull-request', { 3: 'node12', 4: 'node16', 5: 'node16', 6: 'node20', 7: 'node20' }],
  ['softprops/action-gh-release', { 1: 'node16', 2: 'node20' }],
  ['golangci/golangci-lint-action', { 2: 'node12', 3: 'node16', 4: 'node20' }],
  ['dorny/paths-filter', { 2: 'node16', 3: 'node20' }],
  ['aws-actions/configure-aws-credentials', { 1: 'node16', 2: 'node16', 4: 'node20' }],
  ['pnpm/action-setup', { 2: 'node16', 3: 'node20' }],
]);

/** A version read from a `uses:` ref (`v3`, `v3.5.1`) or from the version comment of a SHA pin (`# v3.5.1`). */
export interface ActionVersion {
  major: number;
  minor?: number;
  patch?: number;
  /** Where the version came from: the ref itself or the comment next to a commit SHA. */
  source: 'ref' | 'comment';
}

export interface RetiredActionVersion {
  /** Lower-case `owner/repo`; sub-actions (`actions/cache/restore`) share their repository's versions. */
  action: string;
  /** Whether a used version is retired; minor and patch are known only when the ref or comment gives them. */
  isRetired(version: ActionVersion): boolean;
  /** When GitHub made the versions fail (YYYY-MM-DD). */
  retired: string;
  replacement: string;
  /** The ref an automatic fix writes (`v4`): the replacement's major version tag. */
  replacementRef: string;
  /** Why the versions fail, for messages. */
  reason: string;
  /** True when moving to the replacement changes behaviour the workflow may rely on (the fix is then unsafe). */
  breakingUpgrade: boolean;
}

const ARTIFACT_REASON =
  'GitHub shut down the artifact service behind v1-v3 of the artifact actions; steps using them fail immediately';

export const retiredActionVersions: readonly RetiredActionVersion[] = [
  {
    action: 'actions/upload-artifact',
    isRetired: (v) => v.major <= 3,
    retired: '2025-01-30',
    replacement: 'v4',
    replacementRef: 'v4',
    reason: ARTIFACT_REASON,
    // v4 artifacts are immutable: two uploads of one name in a run (matrix legs) now fail.
    breakingUpgrade: true,
  },
  {
    action: 'actions/download-artifact',
    isRetired: (v) => v.major <= 3,
    retired: '2025-01-30',
    replacement: 'v4',
    replacementRef: 'v4',
    reason: ARTIFACT_REASON,
    // v4 cannot read artifacts that v3 uploaded, and downloads into a different folder layout for several artifacts.
    breakingUpgrade: true,
  },
  {
    // v1 and v2 upload through actions/upload-artifact@v3.
    action: 'actions/upload-pages-artifact',
    isRetired: (v) => v.major <= 2,
    retired: '2025-01-30',
    replacement: 'v3 (together with actions/deploy-pages@v4)',
    replacementRef: 'v3',
    // Only actions/deploy-pages@v4 reads the v3 upload, and it may sit in another job or file.
    reason: 'v1 and v2 upload through actions/upload-artifact@v3, whose artifact service GitHub shut down',
    breakingUpgrade: true,
  },
  {
    // The legacy cache service is gone; only v3.4+ and v4.2+ speak to the new one.
    action: 'actions/cache',
    isRetired: (v) =>
      v.major <= 2 || (v.major === 3 && v.minor !== undefined && v.minor < 4) || (v.major === 4 && v.minor !== undefined && v.minor < 2),
    retired: '2025-03-01',
    replacement: 'v4',
    replacementRef: 'v4',
    reason: "GitHub shut down the legacy cache service these versions talk to; the cache steps fail",
    // Same inputs and outputs; older cache entries are not restored, which costs one cold run.
    breakingUpgrade: false,
  },
];

/** The retired-version entry matching an action and version, if any. */
export function retiredActionVersion(ref: ActionRef, version: ActionVersion): RetiredActionVersion | undefined {
  const action = `${ref.owner ?? ''}/${ref.repo ?? ''}`.toLowerCase();
  return retiredActionVersions.find((entry) => entry.action === action && entry.isRetired(version));
}

const VERSION_PATTERN = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;
const COMMIT_SHA = /^[0-9a-f]{40}$/i;
/** A version inside a pin comment: `# v3.5.1`, `# tag=v3`, `# pin@3.5.1`, `# ratchet:actions/checkout@v3`. */
const COMMENT_VERSION = /(?:^|[\s@=:])v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?![\w.-])/;

function versionOf(match: RegExpExecArray | RegExpMatchArray, source: ActionVersion['source']): ActionVersion {
  const [, major = '0', minor, patch] = match;
  return {
    major: Number(major),
    ...(minor !== undefined ? { minor: Number(minor) } : {}),
    ...(patch !== undefined ? { patch: Number(patch) } : {}),
    source,
  };
}

/**
 * The version a remote `uses:` runs: from a version tag ref, or for a full commit SHA from the comment after the
 * value on the same line. Branches and other refs give undefined.
 */
export function usedActionVersion(file: WorkflowFile, usesNode: Node, ref: ActionRef): ActionVersion | undefined {
  if (ref.kind !== 'remote' || ref.ref === undefined) return undefined;
  const tag = VERSION_PATTERN.exec(ref.ref);
  if (tag) return versionOf(tag, 'ref');
  if (!COMMIT_SHA.test(ref.ref)) return undefined;
  const end = usesNode.range?.[1];
  if (end === undefined) return undefined;
  const lineEnd = file.text.indexOf('\n', end);
  const rest = file.text.slice(end, lineEnd < 0 ? undefined : lineEnd);
  const hash = rest.indexOf('#');
  if (hash < 0) return undefined;
  const comment = COMMENT_VERSION.exec(rest.slice(hash + 1));
  return comment ? versionOf(comment, 'comment') : undefined;
}

/** `v3`, `v3.4`, `v3.4.1`: as precise as the version is known. */
export function formatVersion(version: ActionVersion): string {
  return `v${[version.major, version.minor, version.patch].filter((part) => part !== undefined).join('.')}`;
}

/** The runtime of an action's major version, when known. */
export function actionRuntime(ref: ActionRef, version: ActionVersion): NodeRuntime | undefined {
  return actionRuntimes.get(`${ref.owner ?? ''}/${ref.repo ?? ''}`.toLowerCase())?.[version.major];
}

/** The first major version of an action whose runtime GitHub still supports, when known. */
export function firstSupportedMajor(ref: ActionRef): number | undefined {
  const runtimes = actionRuntimes.get(`${ref.owner ?? ''}/${ref.repo ?? ''}`.toLowerCase());
  if (!runtimes) return undefined;
  const supported = Object.entries(runtimes)
    .filter(([, runtime]) => !removedNodeRuntimes.has(runtime))
    .map(([major]) => Number(major))
    .sort((a, b) => a - b);
  return supported[0];
}
