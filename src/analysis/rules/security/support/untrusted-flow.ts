/**
 * Where attacker-controlled data goes in a workflow file, for the injection, checkout and runner rules: which
 * events a job or step can run for, which env vars and step outputs carry attacker text, what a `run:` script
 * writes to the GITHUB_ENV/GITHUB_PATH/GITHUB_OUTPUT files, and which steps check out pull-request code.
 */
import type { Node } from 'yaml';
import type { SourceRange } from '../../../../domain/types';
import {
  attackerControlledMatch,
  checkoutForkGuard,
  forkFlagContexts,
  forkRepositoryContexts,
  pathWithin,
  pullRequestBranchContexts,
  pullRequestCommitContexts,
  sameRepositoryComparisons,
  untrustedCheckoutTriggers,
} from '../../../knowledge/untrusted-contexts';
import {
  findInNodeSource,
  type JobView,
  mapEntries,
  mapGet,
  rootMap,
  scalarText,
  stepsOfJob,
  type StepView,
  stringList,
  triggersOf,
  type WorkflowFile,
} from '../../../rule';
import { actionName, booleanValue, usesOf, withInput } from '../../../security-sites';
import {
  admittedEvents,
  conjuncts,
  type ContextClassifier,
  contextPaths,
  contextsReachingValue,
  type ExpressionNode,
  findExpressions,
  isContext,
  parseCondition,
  parseExpression,
} from './expressions';

// ---------------------------------------------------------------------------------------------------------------
// Triggers and conditions
// ---------------------------------------------------------------------------------------------------------------

/** Trigger names of a workflow file in lower case; undefined for actions, whose caller is unknown. */
export function workflowTriggers(file: WorkflowFile): Set<string> | undefined {
  if (file.kind !== 'workflow') return undefined;
  return new Set([...triggersOf(file).keys()].map((name) => name.toLowerCase()));
}

/** The parsed `if:` of a job or step map, undefined when absent, always true (template) or unparsable. */
function conditionOf(owner: Node): ExpressionNode | undefined {
  const text = scalarText(mapGet(owner, 'if'));
  return text === undefined ? undefined : parseCondition(text)?.node;
}

/** The triggers a job (and optionally one of its steps) can run for, after their `github.event_name` tests. */
export function admittedTriggers(triggers: ReadonlySet<string>, ...owners: Array<Node | undefined>): Set<string> {
  let admitted = new Set(triggers);
  for (const owner of owners) {
    const condition = owner && conditionOf(owner);
    if (condition) admitted = admittedEvents(condition, admitted);
  }
  return admitted;
}

function isFalse(node: ExpressionNode): boolean {
  return node.kind === 'literal' && node.value === false;
}

function isTrue(node: ExpressionNode): boolean {
  return node.kind === 'literal' && node.value === true;
}

/** True when one `&&` operand of the condition limits the run to pull requests from the base repository itself. */
function limitsToSameRepository(condition: ExpressionNode): boolean {
  return conjuncts(condition).some((part) => {
    if (part.kind === 'not') return forkFlagContexts.some((flag) => isContext(part.operand, flag));
    if (part.kind !== 'binary') return false;
    const { operator, left, right } = part;
    const sides: Array<[ExpressionNode, ExpressionNode]> = [
      [left, right],
      [right, left],
    ];
    return sides.some(([one, other]) => {
      if (operator === '==' && sameRepositoryComparisons.some(([a, b]) => isContext(one, a) && isContext(other, b))) return true;
      const isFlag = forkFlagContexts.some((flag) => isContext(one, flag));
      return isFlag && ((operator === '==' && isFalse(other)) || (operator === '!=' && isTrue(other)));
    });
  });
}

/** True when the `if:` of any of the owners (job, step) restricts the run to same-repository pull requests. */
export function sameRepositoryOnly(...owners: Array<Node | undefined>): boolean {
  return owners.some((owner) => {
    const condition = owner && conditionOf(owner);
    return condition !== undefined && limitsToSameRepository(condition);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Attacker-controlled data in expressions, env vars and step outputs
// ---------------------------------------------------------------------------------------------------------------

/** Where attacker text comes from: the context a reader should look at and the events that fill it. */
export interface TaintOrigin {
  /** How the expression names it (`github.event.issue.title`, `env.TITLE`, `steps.meta.outputs.title`). */
  context: string;
  /** The attacker-controlled context behind an env var or step output, when `context` is one of those. */
  via?: string;
  /** For an object serialized whole (`toJSON(github.event)`): one attacker-controlled field it holds. */
  holds?: string;
  events: ReadonlySet<string>;
  /**
   * True when the text may have been transformed on the way in ways this analysis cannot see: an object serialized
   * by toJSON(), or a step output written by a script.
   */
  uncertain?: boolean;
}

/** Env vars and step outputs that carry attacker text at one step. */
export interface TaintScope {
  /** By env var name as written (shell names are case-sensitive). */
  env: Map<string, TaintOrigin>;
  /** By `<step id>.<output name>`, lower case. */
  stepOutputs: Map<string, TaintOrigin>;
}

function emptyScope(): TaintScope {
  return { env: new Map(), stepOutputs: new Map() };
}

function envLookup(scope: TaintScope, name: string): TaintOrigin | undefined {
  const exact = scope.env.get(name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  for (const [key, origin] of scope.env) if (key.toLowerCase() === lower) return origin;
  return undefined;
}

/** Classifies expression contexts: attacker-controlled event data, and env vars or step outputs tainted by it. */
function taintClassifier(scope: TaintScope): ContextClassifier<TaintOrigin> {
  return (path) => {
    const [root, second, third, fourth] = path;
    if (root === 'env' && second !== undefined && path.length === 2) {
      const origin = envLookup(scope, second);
      return origin && { kind: 'value', origin: { ...origin, context: `env.${second}`, via: origin.via ?? origin.context } };
    }
    if (root === 'steps' && third === 'outputs' && second !== undefined && fourth !== undefined && path.length === 4) {
      const origin = scope.stepOutputs.get(`${second}.${fourth}`);
      return origin && { kind: 'value', origin: { ...origin, context: path.join('.'), via: origin.via ?? origin.context } };
    }
    const match = attackerControlledMatch(path);
    if (!match) return undefined;
    const origin: TaintOrigin = { context: path.join('.'), events: match.events, ...(match.kind === 'container' ? { holds: match.path } : {}) };
    return { kind: match.kind, origin };
  };
}

/** A `${{ }}` of a string whose value can carry attacker text, with where that text comes from. */
export interface TaintedExpression {
  /** The whole `${{ ... }}`. */
  text: string;
  /** Offset of the `${{` in the scanned string. */
  offset: number;
  origins: TaintOrigin[];
}

/** The `${{ }}` expressions of `text` that can expand to attacker text in `scope`. */
export function taintedExpressions(text: string, scope: TaintScope): TaintedExpression[] {
  const classify = taintClassifier(scope);
  return findExpressions(text).flatMap((expression) => {
    const node = parseExpression(expression.body);
    // Name each context as the expression spells it (`env.Title`, not the lower-cased lookup path).
    const origins = node
      ? contextsReachingValue(node, classify).map((flow) => ({
          ...flow.origin,
          context: expression.body.slice(flow.node.start, flow.node.end),
          ...(flow.serialized ? { uncertain: true } : {}),
        }))
      : [];
    return origins.length > 0 ? [{ text: expression.text, offset: expression.offset, origins }] : [];
  });
}

/** Applies an `env:` map to a scope: entries with attacker text taint their name, other entries clear it. */
function withEnv(scope: TaintScope, envNode: Node | undefined): TaintScope {
  const entries = mapEntries(envNode);
  if (entries.length === 0) return scope;
  const env = new Map(scope.env);
  for (const { key, value } of entries) {
    const origins = taintedExpressions(scalarText(value) ?? '', scope).flatMap((expression) => expression.origins);
    const first = origins[0];
    if (first) env.set(key, { ...first, events: new Set(origins.flatMap((origin) => [...origin.events])) });
    else env.delete(key);
  }
  return { env, stepOutputs: scope.stepOutputs };
}

interface JobScopes {
  /** The file text the scopes were computed from (a reused node with other text is recomputed). */
  text: string;
  /** Workflow and job `env:` applied. */
  outer: TaintScope;
  /** The tainted step outputs known before each step, by step index. */
  outputsBefore: Map<number, Map<string, TaintOrigin>>;
}

/** Per job node: computed once per file, since several rules ask for the scope of every step. */
const jobScopesCache = new WeakMap<object, JobScopes>();

function jobScopes(file: WorkflowFile, job: JobView): JobScopes {
  const cached = jobScopesCache.get(job.node);
  if (cached?.text === file.text) return cached;
  const outer = withEnv(withEnv(emptyScope(), mapGet(rootMap(file), 'env')), mapGet(job.node, 'env'));
  const outputsBefore = new Map<number, Map<string, TaintOrigin>>();
  const stepOutputs = new Map<string, TaintOrigin>();
  for (const step of stepsOfJob(job)) {
    outputsBefore.set(step.index, new Map(stepOutputs));
    const id = scalarText(mapGet(step.node, 'id'))?.toLowerCase();
    const script = scalarText(mapGet(step.node, 'run'));
    if (id === undefined || script === undefined) continue;
    const scope = withEnv({ env: outer.env, stepOutputs: outputsBefore.get(step.index) ?? new Map<string, TaintOrigin>() }, mapGet(step.node, 'env'));
    for (const write of fileCommandWrites(script)) {
      if (write.target !== 'GITHUB_OUTPUT') continue;
      const origin = taintOfWrite(script, write, scope)[0]?.origin;
      if (!origin) continue;
      for (const name of outputNames(write.content)) stepOutputs.set(`${id}.${name.toLowerCase()}`, { ...origin, uncertain: true });
    }
  }
  const scopes = { text: file.text, outer, outputsBefore };
  jobScopesCache.set(job.node, scopes);
  return scopes;
}

/**
 * The scope a step runs in: workflow, job and step `env:` in that order, plus the outputs of earlier steps of the
 * same job that wrote attacker text to GITHUB_OUTPUT.
 */
export function scopeOfStep(file: WorkflowFile, step: StepView): TaintScope {
  if (!step.job) return withEnv(emptyScope(), mapGet(step.node, 'env'));
  const { outer, outputsBefore } = jobScopes(file, step.job);
  return withEnv({ env: outer.env, stepOutputs: outputsBefore.get(step.index) ?? new Map<string, TaintOrigin>() }, mapGet(step.node, 'env'));
}

/** True when a context filled only by `origin.events` can hold data under one of `triggers` (undefined: unknown). */
export function filledUnder(origin: TaintOrigin, triggers: ReadonlySet<string> | undefined): boolean {
  if (triggers === undefined || triggers.has('workflow_call')) return true;
  return [...origin.events].some((event) => triggers.has(event));
}

// ---------------------------------------------------------------------------------------------------------------
// Shell scripts: writes to the GitHub file commands and env var references
// ---------------------------------------------------------------------------------------------------------------

export type FileCommand = 'GITHUB_ENV' | 'GITHUB_PATH' | 'GITHUB_OUTPUT';

/** A command of a script that appends to a GitHub file command, with the text it writes. */
export interface FileCommandWrite {
  target: FileCommand;
  /** The command line (with its here-document body or `{ ... }` group), in script coordinates from `offset`. */
  content: string;
  offset: number;
  /** True for a here-document with a quoted delimiter: the shell expands nothing in its body. */
  literalBody: boolean;
  /** Length of the part of `content` that is the command line itself (the body follows). */
  lineLength: number;
}

interface ScriptLine {
  text: string;
  offset: number;
}

/** Physical lines joined where a line ends with a continuation backslash (sh) or backquote (pwsh). */
function logicalLines(script: string): ScriptLine[] {
  const lines: ScriptLine[] = [];
  let offset = 0;
  let pending: ScriptLine | undefined;
  for (const raw of script.split('\n')) {
    const current: ScriptLine = pending ? { text: `${pending.text}\n${raw}`, offset: pending.offset } : { text: raw, offset };
    offset += raw.length + 1;
    if (/[\\`]\s*$/.test(raw)) pending = current;
    else {
      lines.push(current);
      pending = undefined;
    }
  }
  if (pending) lines.push(pending);
  return lines;
}

const fileCommandReference = /(?:\$\{|\$env:|\$|%)(GITHUB_ENV|GITHUB_PATH|GITHUB_OUTPUT)\b/gi;
const writesBefore = /(?:>\s*["']?|\btee\b[^|;&]*|\b(?:out-file|add-content|set-content)\b[^|;&]*|appendalltext\(\s*["']?)$/i;

/** The text with quoted strings blanked out (same length), to find shell syntax outside quotes. */
function unquoted(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, (quoted) => ' '.repeat(quoted.length));
}

/** Every command of a script that appends to GITHUB_ENV, GITHUB_PATH or GITHUB_OUTPUT. */
export function fileCommandWrites(script: string): FileCommandWrite[] {
  const lines = logicalLines(script);
  const writes: FileCommandWrite[] = [];
  lines.forEach((line, index) => {
    const target = writeTarget(line.text);
    if (!target) return;
    const heredoc = /<<-?\s*/.exec(unquoted(line.text).replace(/<<</g, '   '));
    if (heredoc) {
      const delimiter = /^(['"]?)([A-Za-z_][\w-]*)\1/.exec(line.text.slice(heredoc.index + heredoc[0].length));
      if (delimiter?.[2] !== undefined) {
        const end = lines.findIndex((candidate, at) => at > index && candidate.text.trim() === delimiter[2]);
        const body = lines.slice(index + 1, end < 0 ? undefined : end).map((bodyLine) => bodyLine.text);
        writes.push({
          target,
          content: [line.text, ...body].join('\n'),
          offset: line.offset,
          literalBody: delimiter[1] !== '',
          lineLength: line.text.length,
        });
        return;
      }
    }
    if (/^\s*\}/.test(line.text)) {
      // `{ ...; } >> "$GITHUB_ENV"` spread over lines: the group's commands all write to the file.
      let start = index - 1;
      while (start >= 0 && !/(^|[\s;])\{\s*$/.test(lines[start]?.text ?? '')) start--;
      const first = lines[Math.max(start, 0)];
      if (start >= 0 && first) {
        const group = lines.slice(start, index + 1).map((groupLine) => groupLine.text);
        writes.push({ target, content: group.join('\n'), offset: first.offset, literalBody: false, lineLength: group.join('\n').length });
        return;
      }
    }
    writes.push({ target, content: line.text, offset: line.offset, literalBody: false, lineLength: line.text.length });
  });
  return writes;
}

function writeTarget(line: string): FileCommand | undefined {
  for (const match of line.matchAll(fileCommandReference)) {
    if (writesBefore.test(line.slice(0, match.index))) return match[1]?.toUpperCase() as FileCommand;
  }
  return undefined;
}

/**
 * Env var names whose value decides which code later steps run, or how: an attacker-chosen value is dangerous there
 * in any form, so such writes are never judged safe and never rewritten. Matched case-insensitively, since Windows
 * steps of the job read names that way.
 */
export const programControllingEnvName =
  /^(?:LD_\w+|DYLD_\w+|NODE_OPTIONS|NODE_PATH|BASH_ENV|ENV|PATH|HOME|SHELL|SHELLOPTS|BASHOPTS|IFS|PS4|PROMPT_COMMAND|PYTHON\w+|PERL5\w+|RUBY\w+|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|GIT_\w+|GITHUB_\w+|RUNNER_\w+|ACTIONS_\w+)$/i;

/** A delimiter value drawn at run time from a random source (at least 16 random bytes, or a random UUID). */
const randomDelimiterValue = /^"[\w-]*\$\((?:openssl rand -hex (?:1[6-9]|[2-9]\d|\d{3,})|uuidgen|cat \/proc\/sys\/kernel\/random\/uuid)\)"/;

/** `{ echo "NAME<<$D"; printf '%s\n' "..."; echo "$D"; } >> "$GITHUB_ENV"`, the multi-line form GitHub documents. */
const delimitedEnvWrite =
  /\{\s*echo\s+"([A-Za-z_]\w*)<<\$\{?(\w+)\}?"\s*;\s*printf\s+'%s\\n'\s+"[^"]*"\s*;\s*echo\s+"\$\{?(\w+)\}?"\s*;\s*\}\s*>>\s*"?\$\{?GITHUB_ENV\}?"?\s*$/;

/**
 * True when a GITHUB_ENV write uses the multi-line form with a delimiter the script last set from a random source:
 * a newline in the value cannot end the entry and start another one, so the value sets only the variable named.
 */
export function randomlyDelimited(script: string, write: FileCommandWrite): boolean {
  const match = delimitedEnvWrite.exec(write.content);
  const [, name = '', delimiter = '', closing] = match ?? [];
  if (!match || delimiter !== closing || programControllingEnvName.test(name)) return false;
  const before = script.slice(0, write.offset + match.index);
  const assignments = [...before.matchAll(new RegExp(`(?:^|[\\s;&|(])${delimiter}=`, 'g'))];
  const last = assignments[assignments.length - 1];
  return last !== undefined && randomDelimiterValue.test(before.slice(last.index + last[0].length));
}

/** An env var the shell expands in some text: `$NAME`, `${NAME}`, `$env:NAME` (pwsh) or `%NAME%` (cmd). */
export interface ShellReference {
  name: string;
  /** The reference as written. */
  text: string;
  offset: number;
}

/**
 * Env var references the shell expands in `text`. Single-quoted text is literal; `${NAME//pattern/}` rewrites the
 * value (the usual way to strip dangerous characters) and does not count.
 */
function expandedReferences(text: string, quoteAware = true): ShellReference[] {
  const references: ShellReference[] = [];
  const pattern = /\$\{([A-Za-z_]\w*)(\/)?|\$env:([A-Za-z_]\w*)|\$([A-Za-z_]\w*)|%([A-Za-z_]\w*)%/gi;
  const literal = quoteAware ? singleQuotedRanges(text) : [];
  for (const match of text.matchAll(pattern)) {
    const at = match.index;
    if (literal.some(([from, to]) => at > from && at < to)) continue;
    const [whole, braced, rewrite, pwsh, plain, cmd] = match;
    if (braced !== undefined && rewrite !== undefined) continue;
    const name = braced ?? pwsh ?? plain ?? cmd;
    if (name !== undefined) references.push({ name, text: whole, offset: at });
  }
  return references;
}

/** [start, end] offsets of single-quoted strings outside double quotes. */
function singleQuotedRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let state: 'none' | 'double' | 'single' = 'none';
  let start = 0;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '\\' && state !== 'single') at++;
    else if (state === 'none' && char === "'") [state, start] = ['single', at];
    else if (state === 'single' && char === "'") {
      ranges.push([start, at]);
      state = 'none';
    } else if (state === 'none' && char === '"') state = 'double';
    else if (state === 'double' && char === '"') state = 'none';
  }
  if (state === 'single') ranges.push([start, text.length]);
  return ranges;
}

/** True when the script assigns `name` itself before `offset` (typically to sanitize it). */
function reassignedBefore(script: string, name: string, offset: number): boolean {
  const escaped = name.replace(/[^\w]/g, '');
  const assignment = new RegExp(
    `(?:^|[\\s;&|(])(?:(?:export|local|declare|readonly|typeset)(?:\\s+-\\w+)*\\s+)?${escaped}=|\\bread\\b[^\\n;]*\\b${escaped}\\b|\\$env:${escaped}\\s*=`,
    'i',
  );
  return assignment.test(script.slice(0, offset));
}

/** Where attacker text enters one write: a `${{ }}` or an env var reference, at an offset in the script. */
export interface WriteTaint {
  /** The `${{ }}` or `$NAME` as written. */
  text: string;
  offset: number;
  origin: TaintOrigin;
  /** True when the text arrives through an env var (the script may have sanitized it in ways not seen here). */
  indirect: boolean;
}

/** The places where attacker text reaches a file-command write. */
export function taintOfWrite(script: string, write: FileCommandWrite, scope: TaintScope): WriteTaint[] {
  const direct = taintedExpressions(write.content, scope).flatMap((expression) =>
    expression.origins.map((origin) => ({ text: expression.text, offset: write.offset + expression.offset, origin, indirect: false })),
  );
  const line = write.content.slice(0, write.lineLength);
  const body = write.content.slice(write.lineLength);
  const references = [
    ...expandedReferences(line),
    ...(write.literalBody ? [] : expandedReferences(body, false).map((reference) => ({ ...reference, offset: reference.offset + write.lineLength }))),
  ];
  const viaEnv = references.flatMap((reference) => {
    const origin = scope.env.get(reference.name);
    const offset = write.offset + reference.offset;
    if (!origin || reassignedBefore(script, reference.name, offset)) return [];
    return [{ text: reference.text, offset, origin: { ...origin, context: reference.name, via: origin.via ?? origin.context }, indirect: true }];
  });
  return [...direct, ...viaEnv];
}

/** Output names a GITHUB_OUTPUT write sets: `name=value` and `name<<DELIMITER` forms. */
function outputNames(content: string): string[] {
  const names = new Set<string>();
  for (const match of content.matchAll(/(?:^|["'\s])([A-Za-z_][\w-]*)(?:=|<<)/gm)) {
    const name = match[1];
    if (name !== undefined && !/^(?:echo|printf|cat|export)$/.test(name)) names.add(name);
  }
  return [...names];
}

// ---------------------------------------------------------------------------------------------------------------
// Steps: scripts, shells, checkouts
// ---------------------------------------------------------------------------------------------------------------

/** The shell a `run:` step uses: the step's `shell:`, then job and workflow `defaults.run.shell`, else undefined. */
export function shellOf(file: WorkflowFile, step: StepView): string | undefined {
  const owners = [step.node, step.job && mapGet(mapGet(step.job.node, 'defaults'), 'run'), mapGet(mapGet(rootMap(file), 'defaults'), 'run')];
  for (const owner of owners) {
    const shell = scalarText(mapGet(owner, 'shell'));
    if (shell !== undefined) return shell.toLowerCase();
  }
  const runsOn = step.job ? stringList(mapGet(step.job.node, 'runs-on')) : [];
  return runsOn.some((label) => label.toLowerCase().startsWith('windows')) ? 'pwsh' : undefined;
}

/** How a script in `shell` reads env var `name`. */
export function envReference(shell: string | undefined, name: string): string {
  if (shell?.startsWith('pwsh') || shell?.startsWith('powershell')) return `$env:${name}`;
  if (shell?.startsWith('cmd')) return `%${name}%`;
  if (shell?.startsWith('python')) return `os.environ["${name}"]`;
  return `"$${name}"`;
}

const envNameAbbreviations: Record<string, string> = { pull_request: 'PR', workflow_run: 'RUN', head_commit: 'COMMIT' };

/** A readable env var name for a context (`github.event.issue.title` gives `ISSUE_TITLE`). */
export function envNameFor(context: string): string {
  const parts = context
    .split('.')
    .filter((part) => part !== '*' && part !== 'github' && part !== 'event' && part !== 'env' && part !== 'outputs');
  const name = parts
    .slice(-2)
    .map((part) => envNameAbbreviations[part.toLowerCase()] ?? part)
    .join('_')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_');
  return /^[A-Z_]/.test(name) ? name : `V_${name}`;
}

/** A step that fetches pull-request code, and how. */
export interface PullRequestCheckout {
  step: StepView;
  /** The node to point at: the `ref:`/`repository:` input, or the `run:` script. */
  node: Node;
  /** For a `run:` script: the command in it (as written) and its offset in the script. */
  command?: { text: string; offset: number };
  /** What it fetches, for messages (e.g. "`ref: ${{ github.event.pull_request.head.sha }}`"). */
  description: string;
  /**
   * True when actions/checkout itself may refuse this for fork pull requests: a version with the (unverified) fork
   * guard, not overridden by `allow-unsafe-pr-checkout`.
   */
  guardedByCheckout: boolean;
  /** The triggers under which it fetches pull-request code, judged from the event data it names. */
  events: ReadonlySet<string>;
}

/** Which of the untrusted-checkout triggers fill the event data a checkout names (all of them when it names none). */
function checkoutEvents(text: string): Set<string> {
  const events = new Set<string>();
  for (const path of expressionContexts(text)) {
    const dotted = path.join('.');
    if (dotted.startsWith('github.event.pull_request.') || dotted === 'github.head_ref' || dotted === 'github.event.number') events.add('pull_request_target');
    else if (dotted.startsWith('github.event.workflow_run.')) events.add('workflow_run');
    else if (dotted.startsWith('github.event.issue.')) events.add('issue_comment');
  }
  return events.size > 0 ? events : new Set(untrustedCheckoutTriggers);
}

function expressionContexts(text: string): string[][] {
  return findExpressions(text).flatMap((expression) => {
    const node = parseExpression(expression.body);
    return node ? contextPaths(node) : [];
  });
}

function mentions(text: string, contexts: readonly string[]): boolean {
  return expressionContexts(text).some((path) => contexts.some((context) => pathWithin(path, context)));
}

const pullRefPattern = /\bpull\/(?:\$\{\{[^}]*\}\}|[^\s/]+)\/(?:head|merge)\b/;

/** The version an action reference names: `v4`, `v4.4.0` or a SHA with a `# v4.4.0` comment on the same line. */
function referencedVersion(file: WorkflowFile, node: Node, ref: string | undefined): number[] | undefined {
  const parse = (text: string): number[] | undefined => {
    const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(text);
    return match ? match.slice(1).flatMap((part) => (part === undefined ? [] : [Number(part)])) : undefined;
  };
  const fromRef = ref === undefined ? undefined : parse(ref);
  if (fromRef) return fromRef;
  const end = node.range?.[1];
  if (end === undefined) return undefined;
  const lineEnd = file.text.indexOf('\n', end);
  const comment = /^\s*#\s*(v?\d+(?:\.\d+){0,2})\b/.exec(file.text.slice(end, lineEnd < 0 ? undefined : lineEnd));
  return comment?.[1] === undefined ? undefined : parse(comment[1]);
}

/** True when this actions/checkout version would refuse fork pull-request code by default (unverified guard). */
function checkoutVersionGuards(version: number[] | undefined): boolean {
  const [major, minor, patch] = version ?? [];
  if (major === undefined) return false;
  if (minor === undefined) return major >= checkoutForkGuard.firstGuardedMajorTag;
  const latest = checkoutForkGuard.firstGuardedVersions[checkoutForkGuard.firstGuardedVersions.length - 1];
  if (latest && major > latest[0]) return true;
  const first = checkoutForkGuard.firstGuardedVersions.find(([guardedMajor]) => guardedMajor === major);
  if (!first) return false;
  const [, firstMinor, firstPatch] = first;
  return minor > firstMinor || (minor === firstMinor && (patch ?? 0) >= firstPatch);
}

/** Commands that put other code into the working tree (a bare `git fetch` only downloads it, e.g. to diff). */
const workingTreeCommand = /\bgh\s+pr\s+checkout\b[^\n;&|]*|\bgit\s+(?:-C\s+\S+\s+)?(?:checkout|switch|pull|reset\s+--hard|merge|worktree\s+add)\b[^\n;&|]*/g;
const gitFetchCommand = /\bgit\s+(?:-C\s+\S+\s+)?fetch\b[^\n;&|]*/g;

function namesPullRequestCode(command: string): boolean {
  return pullRefPattern.test(command) || mentions(command, [...pullRequestCommitContexts, ...forkRepositoryContexts]);
}

/**
 * The command of a script that checks out pull-request code: `gh pr checkout`, a checkout/pull/reset naming the
 * pull request's ref or commit, or any such command after a `git fetch` of the pull request.
 */
function scriptCheckout(script: string): { description: string; text: string; offset: number } | undefined {
  const fetch = [...script.matchAll(gitFetchCommand)].find((match) => namesPullRequestCode(match[0]));
  for (const match of script.matchAll(workingTreeCommand)) {
    const command = match[0];
    const afterFetch = fetch !== undefined && match.index > fetch.index;
    if (command.startsWith('gh') || afterFetch || namesPullRequestCode(command)) {
      const description = afterFetch && fetch ? `${fetch[0].trim()}\` then \`${command.trim()}` : command.trim();
      return { description, text: command.trimEnd(), offset: match.index };
    }
  }
  return undefined;
}

/** Steps of a job that fetch pull-request code: actions/checkout of the head/merge commit or fork, or git/gh commands. */
export function pullRequestCheckouts(file: WorkflowFile, job: JobView): PullRequestCheckout[] {
  return stepsOfJob(job).flatMap((step): PullRequestCheckout[] => {
    const uses = usesOf(step.node);
    if (uses) {
      if (uses.ref.kind !== 'remote' || actionName(uses.ref) !== 'actions/checkout') return [];
      const refNode = withInput(step.node, 'ref');
      const repositoryNode = withInput(step.node, 'repository');
      const ref = scalarText(refNode) ?? '';
      const repository = scalarText(repositoryNode) ?? '';
      const forkRepository = mentions(repository, forkRepositoryContexts);
      const forkRef = mentions(ref, pullRequestCommitContexts) || pullRefPattern.test(ref) || (forkRepository && mentions(ref, pullRequestBranchContexts));
      if (!forkRef && !forkRepository) return [];
      const node = (forkRef ? refNode : repositoryNode) ?? uses.node;
      const optOut = booleanValue(withInput(step.node, checkoutForkGuard.input));
      const guardedByCheckout = optOut !== true && optOut !== 'expression' && checkoutVersionGuards(referencedVersion(file, uses.node, uses.ref.ref));
      const description = forkRef ? `\`ref: ${ref.trim()}\`` : `\`repository: ${repository.trim()}\``;
      return [{ step, node, description, guardedByCheckout, events: checkoutEvents(`${ref} ${repository}`) }];
    }
    const runNode = mapGet(step.node, 'run');
    const script = scalarText(runNode);
    if (!runNode || script === undefined) return [];
    const found = scriptCheckout(script);
    if (!found) return [];
    const events = checkoutEvents(found.description);
    const command = { text: found.text, offset: found.offset };
    return [{ step, node: runNode, command, description: `\`${found.description}\``, guardedByCheckout: false, events }];
  });
}

/** True when a step runs code from the workspace: a `run:` script or a local action (`uses: ./...`). */
export function runsWorkspaceCode(step: StepView): boolean {
  if (mapGet(step.node, 'run') !== undefined) return true;
  const uses = usesOf(step.node);
  return uses?.ref.kind === 'local';
}


/**
 * The source range of the occurrence of `snippet` that starts at `offset` in the scalar value of `node`, matched by
 * order among the snippet's occurrences; undefined when the source spells the value differently (escapes, folding).
 */
export function locateInScalar(file: WorkflowFile, node: Node, value: string, offset: number, snippet: string): SourceRange | undefined {
  let before = 0;
  let total = 0;
  for (let at = value.indexOf(snippet); at >= 0; at = value.indexOf(snippet, at + snippet.length)) {
    if (at < offset) before++;
    total++;
  }
  const ranges = findInNodeSource(file, node, snippet);
  return ranges.length === total ? ranges[before] : undefined;
}
