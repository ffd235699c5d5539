/**
 * The uniform shape of an analyzer rule (one rule per file under src/analysis/rules/<category>/<rule-id>.ts)
 * and the context a rule's check() receives. Rules never read files or the network: everything they need is
 * in the parsed workflow file and the repository view.
 */
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import type { Category, Confidence, FixSafety, Severity, SourceRange, WorkflowFileKind } from '../domain/types';
import type { TextEdit } from './edit/text-edits';
import type { Unfixable } from './edit/yaml-edits';

/** A key in a YAML path: a map key or a sequence index. */
export type YamlPathSegment = string | number;

/** One parsed CI workflow file (a workflow under .github/workflows or an action.yml). */
export interface WorkflowFile {
  /** Path relative to the repository root, forward slashes. */
  path: string;
  kind: WorkflowFileKind;
  text: string;
  /**
   * Parsed with `yaml` (YAML 1.2 core schema, so `on:` stays a string key). When `doc.errors` is not empty the
   * engine runs only the `yaml-syntax` rule on the file.
   */
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

/** Read-only view of the repository the file belongs to, for cross-file rules. */
export interface RepositoryView {
  /** Every CI workflow file found in the repository (workflows and actions), parsed. */
  workflowFiles: readonly WorkflowFile[];
  /** True when a file exists at this repository-relative path (e.g. a lockfile). Unknown repos answer false. */
  fileExists(path: string): boolean;
  /** Owners whose actions count as first-party (e.g. `actions`, `github`, the repository's own org). */
  firstPartyOwners: readonly string[];
}

/** What a rule reports; the engine adds rule metadata, file, positions and the fingerprint. */
export interface RuleReport {
  /**
   * The node the finding points at: its source range becomes the finding's position and its YAML path part of
   * the fingerprint. Omit it only for findings that have no node (YAML syntax errors); then give `range`.
   */
  node?: Node | Pair;
  message: string;
  /** Overrides the rule's generic remediation with a specific one. */
  remediation?: string;
  /** Overrides the rule's default severity for this finding (e.g. worse under pull_request_target). */
  severity?: Severity;
  confidence?: Confidence;
  /** A narrower position inside `node` (e.g. one `${{ }}` in a multi-line script); see findInNodeSource(). */
  range?: SourceRange;
  /** How to fix this occurrence; makes the finding `fixable` with the plan's safety. */
  fix?: FixPlan;
  /** Why this occurrence has no automatic fix (becomes the finding's `fixNote`); only without `fix`. */
  unfixable?: string;
}

/**
 * An automatic fix of one finding. Its edits are computed only when fixing, from the file as it is then (the same
 * text the finding was reported on), and never do I/O: what they need from outside (action refs) is looked up
 * beforehand and handed in through the context.
 */
export interface FixPlan {
  safety: FixSafety;
  /** One line, imperative: what the edit does (goes into patch descriptions and `wpa fix --format json`). */
  title: string;
  /** The edits on ctx.file, or why this occurrence cannot be fixed (e.g. an action ref that did not resolve). */
  edits(ctx: FixContext): readonly TextEdit[] | Unfixable;
}

export interface FixContext {
  file: WorkflowFile;
  repo: RepositoryView;
  settings: FixSettings;
  actionRefs: ActionRefLookup;
}

/** Choices a fix cannot make from the workflow alone. */
export interface FixSettings {
  /** The `timeout-minutes` given to jobs that have none (an unsafe fix: a slower job gets cancelled). */
  jobTimeoutMinutes: number;
}

export const DEFAULT_FIX_SETTINGS: FixSettings = { jobTimeoutMinutes: 30 };

/** What a fix may know about remote action refs, resolved before fixing (fixes never touch the network). */
export interface ActionRefLookup {
  /** Pre-resolved: the commit SHA and the most precise semver tag for owner/repo@ref, or why not. */
  resolve(owner: string, repo: string, ref: string): { sha: string; version?: string } | { unresolved: string };
}

export interface RuleContext {
  file: WorkflowFile;
  repo: RepositoryView;
  report(finding: RuleReport): void;
}

export interface RuleExample {
  /** YAML that makes the rule fire. */
  bad: string;
  /** The same intent written so the rule stays silent. */
  good: string;
}

export interface Rule {
  /** kebab-case, unique, equal to the file name. */
  id: string;
  category: Category;
  severity: Severity;
  confidence: Confidence;
  /** Which kinds of file the rule reads. */
  appliesTo: readonly WorkflowFileKind[];
  /** One line: what the rule detects. */
  description: string;
  /** Why it matters, a short paragraph. */
  rationale: string;
  /** Generic remediation used when a report gives none. */
  remediation: string;
  examples: RuleExample;
  /** What the rule's automatic fix does, for the docs; set exactly when its reports carry a `fix`. */
  fixes?: RuleFixSummary;
  check(ctx: RuleContext): void;
}

export interface RuleFixSummary {
  /** The safety of the fix (the most common one when it depends on the occurrence). */
  safety: FixSafety;
  /** One or two sentences: what the edit does, and when it is not offered. */
  description: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Navigation helpers shared by all rules. They work on the positioned `yaml` nodes, never on plain JS copies,
// so every finding can point at the exact key or value.
// ---------------------------------------------------------------------------------------------------------------

/** The value node under `key` in a map, or undefined. */
export function mapGet(node: unknown, key: string): Node | undefined {
  if (!isMap(node)) return undefined;
  const pair = mapPair(node, key);
  return (pair?.value ?? undefined);
}

/** The pair for `key` in a map, or undefined. */
export function mapPair(node: unknown, key: string): Pair<Scalar, Node | null> | undefined {
  if (!isMap(node)) return undefined;
  for (const item of (node).items) {
    if (isScalar(item.key) && String(item.key.value) === key) return item as Pair<Scalar, Node | null>;
  }
  return undefined;
}

/** The pairs of a map whose keys are scalars, in source order. */
export function mapEntries(node: unknown): Array<{ key: string; keyNode: Scalar; value: Node | null; pair: Pair }> {
  if (!isMap(node)) return [];
  const out: Array<{ key: string; keyNode: Scalar; value: Node | null; pair: Pair }> = [];
  for (const item of (node).items) {
    if (isScalar(item.key)) out.push({ key: String(item.key.value), keyNode: item.key, value: (item.value ?? null) as Node | null, pair: item });
  }
  return out;
}

/** The items of a sequence node, or [] for anything else. */
export function seqItems(node: unknown): Node[] {
  return isSeq(node) ? ((node).items as Node[]) : [];
}

/** A scalar's value as a string (numbers and booleans stringified), or undefined for non-scalars and null. */
export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const value: unknown = node.value;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : undefined;
}

/** A scalar or a sequence of scalars as strings (e.g. `runs-on`, `on`, `branches`). */
export function stringList(node: unknown): string[] {
  if (isScalar(node)) {
    const text = scalarText(node);
    return text === undefined ? [] : [text];
  }
  return seqItems(node).flatMap((item) => {
    const text = scalarText(item);
    return text === undefined ? [] : [text];
  });
}

export function isPairNode(node: unknown): node is Pair {
  return isPair(node);
}

/** A job of a workflow file. */
export interface JobView {
  id: string;
  keyNode: Scalar;
  node: YAMLMap;
}

/** A step of a job, or of a composite action (then `job` is undefined). */
export interface StepView {
  job: JobView | undefined;
  index: number;
  node: YAMLMap;
}

/** The root map of a parsed file, or undefined when the document is not a map. */
export function rootMap(file: WorkflowFile): YAMLMap | undefined {
  const contents = file.doc.contents;
  return isMap(contents) ? (contents) : undefined;
}

// Every rule asks for the jobs, steps and triggers of the same file, and a parsed file is never changed, so they are
// computed once per file (or job) and kept as long as the file object lives. Callers get fresh arrays and maps, so
// they may sort or extend them; the views inside are shared and must be treated as read-only.
const jobsByFile = new WeakMap<WorkflowFile, JobView[]>();
const stepsByJob = new WeakMap<JobView, StepView[]>();
const stepsByFile = new WeakMap<WorkflowFile, StepView[]>();
const triggersByFile = new WeakMap<WorkflowFile, Map<string, { keyNode: Node; config: Node | null }>>();

/** The cached value for `key`, computing and storing it on first use. */
function cachedIn<K extends object, V>(cache: WeakMap<K, V>, key: K, compute: (key: K) => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = compute(key);
    cache.set(key, value);
  }
  return value;
}

/** Jobs of a workflow file in source order ([] for actions and malformed files). */
export function jobsOf(file: WorkflowFile): JobView[] {
  if (file.kind !== 'workflow') return [];
  return [...cachedIn(jobsByFile, file, computeJobs)];
}

function computeJobs(file: WorkflowFile): JobView[] {
  return mapEntries(mapGet(rootMap(file), 'jobs')).flatMap(({ key, keyNode, value }) =>
    isMap(value) ? [{ id: key, keyNode, node: value }] : [],
  );
}

/** Steps of one job. */
export function stepsOfJob(job: JobView): StepView[] {
  return [...cachedIn(stepsByJob, job, computeStepsOfJob)];
}

function computeStepsOfJob(job: JobView): StepView[] {
  return seqItems(mapGet(job.node, 'steps')).flatMap((item, index) =>
    isMap(item) ? [{ job, index, node: item }] : [],
  );
}

/** Every step of the file: all jobs' steps for a workflow, `runs.steps` for a composite action. */
export function stepsOf(file: WorkflowFile): StepView[] {
  return [...cachedIn(stepsByFile, file, computeSteps)];
}

function computeSteps(file: WorkflowFile): StepView[] {
  if (file.kind === 'action') {
    return seqItems(mapGet(mapGet(rootMap(file), 'runs'), 'steps')).flatMap((item, index) =>
      isMap(item) ? [{ job: undefined, index, node: item }] : [],
    );
  }
  return jobsOf(file).flatMap(stepsOfJob);
}

/** The workflow's trigger events by name, with the node under each (null for `on: push` forms). */
export function triggersOf(file: WorkflowFile): Map<string, { keyNode: Node; config: Node | null }> {
  return new Map(cachedIn(triggersByFile, file, computeTriggers));
}

function computeTriggers(file: WorkflowFile): Map<string, { keyNode: Node; config: Node | null }> {
  const triggers = new Map<string, { keyNode: Node; config: Node | null }>();
  const on = mapGet(rootMap(file), 'on');
  if (isScalar(on)) {
    const name = scalarText(on);
    if (name) triggers.set(name, { keyNode: on, config: null });
  } else if (isSeq(on)) {
    for (const item of seqItems(on)) {
      const name = scalarText(item);
      if (name) triggers.set(name, { keyNode: item, config: null });
    }
  } else {
    for (const { key, keyNode, value } of mapEntries(on)) triggers.set(key, { keyNode, config: value });
  }
  return triggers;
}

/** A parsed `uses:` reference. */
export interface ActionRef {
  kind: 'local' | 'docker' | 'remote';
  /** For remote refs: owner, repo, optional sub-path and the ref after `@`. */
  owner?: string;
  repo?: string;
  subPath?: string;
  ref?: string;
  /** For docker refs: the image reference after `docker://`. */
  image?: string;
  raw: string;
}

// The same few hundred `uses:` strings recur across files and rules. The parsed references are frozen so sharing
// them is safe; the cache is emptied when it grows past a bound, so a long-running service does not keep every
// string it ever saw.
const actionRefs = new Map<string, ActionRef>();
const ACTION_REF_CACHE_LIMIT = 10_000;

export function parseActionRef(raw: string): ActionRef {
  let ref = actionRefs.get(raw);
  if (ref === undefined) {
    if (actionRefs.size >= ACTION_REF_CACHE_LIMIT) actionRefs.clear();
    ref = Object.freeze(computeActionRef(raw));
    actionRefs.set(raw, ref);
  }
  return ref;
}

function computeActionRef(raw: string): ActionRef {
  const text = raw.trim();
  if (text.startsWith('./') || text.startsWith('.\\') || text.startsWith('$/')) return { kind: 'local', raw: text };
  if (text.startsWith('docker://')) return { kind: 'docker', image: text.slice('docker://'.length), raw: text };
  const at = text.lastIndexOf('@');
  const target = at >= 0 ? text.slice(0, at) : text;
  const [owner = '', repo = '', ...rest] = target.split('/');
  return {
    kind: 'remote',
    owner,
    repo,
    ...(rest.length > 0 ? { subPath: rest.join('/') } : {}),
    ...(at >= 0 ? { ref: text.slice(at + 1) } : {}),
    raw: text,
  };
}

/** 1-based source range of a node or pair (a pair spans its key through its value). */
export function rangeOf(file: WorkflowFile, node: Node | Pair): SourceRange | undefined {
  let start: number | undefined;
  let end: number | undefined;
  if (isPair(node)) {
    const key = node.key as Node | null;
    const value = node.value as Node | null;
    start = key?.range?.[0] ?? value?.range?.[0];
    end = value?.range?.[1] ?? key?.range?.[1];
  } else {
    start = node.range?.[0];
    end = node.range?.[1];
  }
  if (start === undefined || end === undefined) return undefined;
  const from = file.lineCounter.linePos(start);
  const to = file.lineCounter.linePos(Math.max(start, end));
  return { line: from.line, column: from.col, endLine: to.line, endColumn: to.col };
}

/**
 * Where `needle` occurs in the source text of `node` (e.g. an expression inside a block scalar), as 1-based
 * ranges. Searches the raw text, so it finds what a reader sees even in folded or block scalars.
 */
export function findInNodeSource(file: WorkflowFile, node: Node, needle: string): SourceRange[] {
  const start = node.range?.[0];
  const end = node.range?.[1];
  if (start === undefined || end === undefined || needle.length === 0) return [];
  const source = file.text.slice(start, end);
  const ranges: SourceRange[] = [];
  for (let at = source.indexOf(needle); at >= 0; at = source.indexOf(needle, at + needle.length)) {
    const from = file.lineCounter.linePos(start + at);
    const to = file.lineCounter.linePos(start + at + needle.length);
    ranges.push({ line: from.line, column: from.col, endLine: to.line, endColumn: to.col });
  }
  return ranges;
}
