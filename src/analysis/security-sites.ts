/**
 * Queries shared by the pinning, permission and credential rules in rules/security: where a workflow file names
 * actions, containers and run-time computed values. Built on the navigation helpers of rule.ts.
 */
import { isScalar, type Node, type Scalar } from 'yaml';
import { type ActionRef, type JobView, mapEntries, mapGet, parseActionRef, scalarText, type WorkflowFile } from './rule';

/** True when the text holds a `${{ }}` expression, so its real value is only known at run time. */
export function hasExpression(text: string): boolean {
  return text.includes('${{');
}

/** A literal `uses:` value of a step or a job and the reference it names. */
export interface UsesSite {
  node: Scalar;
  ref: ActionRef;
}

/** The `uses:` of a step or job map, unless absent, empty or not a plain scalar. */
export function usesOf(owner: Node | null | undefined): UsesSite | undefined {
  const node = mapGet(owner, 'uses');
  const text = scalarText(node);
  if (!isScalar(node) || text === undefined || text.trim() === '') return undefined;
  return { node, ref: parseActionRef(text) };
}

/** `owner/repo[/path]` of a remote reference in lower case (GitHub names are case-insensitive), else undefined. */
export function actionName(ref: ActionRef): string | undefined {
  if (ref.kind !== 'remote' || !ref.owner || !ref.repo) return undefined;
  return [ref.owner, ref.repo, ref.subPath].filter((part) => part !== undefined && part !== '').join('/').toLowerCase();
}

/**
 * Major version an action reference resolves to: from a `v4`/`4.1.0` ref, or for a SHA pin from the conventional
 * trailing `# v4.1.0` comment. Undefined for branches and uncommented SHAs.
 */
export function majorVersion(file: WorkflowFile, site: UsesSite): number | undefined {
  const fromRef = /^v?(\d+)(?:\.|$)/.exec(site.ref.ref ?? '');
  if (fromRef?.[1] !== undefined) return Number(fromRef[1]);
  const end = site.node.range?.[1];
  if (end === undefined) return undefined;
  const lineEnd = file.text.indexOf('\n', end);
  const rest = file.text.slice(end, lineEnd < 0 ? undefined : lineEnd);
  // `# v4.1.0`, `# tag=v4`, `# ratchet:owner/repo@v4`, `# pin@v4.1.0`.
  const fromComment = /^\s*#\s*(?:tag=|\S*@)?v?(\d+)(?:[.\s]|$)/.exec(rest);
  return fromComment?.[1] === undefined ? undefined : Number(fromComment[1]);
}

/** A container a job runs: the job container (`name` is `container`) or a service container. */
export interface ContainerSite {
  name: string;
  kind: 'container' | 'service';
  /** The `container:`/`services.<name>:` value: an image string or a map with `image`, `credentials`... */
  node: Node;
}

export function containersOf(job: JobView): ContainerSite[] {
  const sites: ContainerSite[] = [];
  const container = mapGet(job.node, 'container');
  if (container) sites.push({ name: 'container', kind: 'container', node: container });
  for (const { key, value } of mapEntries(mapGet(job.node, 'services'))) {
    if (value) sites.push({ name: key, kind: 'service', node: value });
  }
  return sites;
}

/**
 * A literal boolean `with:` input or env value as GitHub reads it (`true`, `'true'`, `TRUE`), `expression` when it
 * is computed at run time, undefined when absent or not boolean.
 */
export function booleanValue(node: Node | null | undefined): boolean | 'expression' | undefined {
  const text = scalarText(node)?.trim();
  if (text === undefined) return undefined;
  if (hasExpression(text)) return 'expression';
  const lower = text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return undefined;
}

/** The value of one `with:` input of a step. */
export function withInput(step: Node, name: string): Node | undefined {
  return mapGet(mapGet(step, 'with'), name);
}
