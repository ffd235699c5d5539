/**
 * The four test stages a patch passes on every target before a guardian is asked. The patched tree is made from
 * git objects (the target's commit, the diff applied in a scratch index, as a deploy applies it) and both sides are
 * read once for all four; only a target's verify command needs a checkout, which gets the diff applied as well. A
 * failing stage is a result (`passed: false`, with a summary and a log); only infrastructure failures (git, the
 * file system) throw.
 */
import { type AnalysisResult, atLeast, analyzeRepository } from '../analysis/engine';
import { repositoryFromFiles, normalizeRepoPath } from '../analysis/discover';
import { parseWorkflowFile, workflowFileKind } from '../analysis/parse';
import { jobsOf, mapGet, parseActionRef, type RepositoryView, scalarText, stepsOf, type WorkflowFile } from '../analysis/rule';
import { allRules } from '../analysis/rules';
import { schemaViolationRule } from '../analysis/rules/compatibility/schema-violation';
import { yamlSyntaxRule } from '../analysis/rules/compatibility/yaml-syntax';
import type { Finding, ResolvedFinding, StageResult, Target, TreeStage } from '../domain/types';
import { introducedFindings } from '../fixes/fix-repository';
import { applyDiff, type CachedTreeWithDiff, type ChangedFile, changedFiles, InvalidDiffError, PatchDoesNotApplyError, readTreeObjectsAndPaths, type TreeRead, treeWithDiff } from '../git';
import { runSandboxed, type SandboxConfig, type SandboxedResult, SandboxUnavailableError } from '../sandbox';
import { commandOutputForPeople } from '../security/redact';
import { type PatchedFile, safetyReport } from './safety-report';

/** Wall-clock limit of a target's verify command. */
export const VERIFY_COMMAND_TIMEOUT_MS = 10 * 60_000;
/** Characters of log kept per stage result: the first and last halves. */
export const MAX_STAGE_LOG_CHARS = 16_000;
const MAX_LISTED_IN_SUMMARY = 3;

/** A local action's metadata file, wherever it lives (`uses: ./path/to/action`). */
const ACTION_FILE = /(^|\/)action\.ya?ml$/;
/** Files the runner accepts as a local action, in the folder `uses: ./folder` names. */
const LOCAL_ACTION_FILES = ['action.yml', 'action.yaml', 'Dockerfile'];

export interface StageContext {
  diff: string;
  target: Target;
  /** How the worker sandboxes the target's verify command (config.sandbox). */
  sandbox: SandboxConfig;
  signal?: AbortSignal;
  /** Told what the stage is doing now (the activity heartbeats with it). */
  progress?: (step: string) => void;
  /** For a patch generated from findings: the findings its diff claims to resolve on this target. */
  claims?: readonly ResolvedFinding[];
  /**
   * A checkout of the tested commit for the target's verify command (prepareTree applies the diff to it too);
   * needed only when the target has one.
   */
  workTree?: string;
}

/** The commit a target's stages test, in a git directory whose objects they read (a cached bare repository, or a checkout's .git). */
export interface TreeUnderTest extends StageContext {
  gitDir: string;
  commit: string;
  /** Makes the patched tree (default treeWithDiff in gitDir); a cached repository's keeps it for the deploy. */
  makeTree?: CachedTreeWithDiff;
}

export interface StageReport extends StageResult {
  /** Facts for the read model: the tested commit and stage-specific counts. */
  details: Record<string, unknown>;
}

type StageOutcome = Omit<StageReport, 'stage' | 'targetId'>;

/**
 * Both sides of the patch, read once for every tree stage (or the outcome that ends them all, such as a diff that
 * does not apply). The stages only read it and the checkout, if any (the verify command runs on a copy).
 */
export type PreparedTree = PatchedTree | StageOutcome;

/** The files of one side of the patch: CI files and the changed files as text, and every path that exists. */
interface TreeState {
  files: ReadonlyMap<string, string>;
  paths: ReadonlySet<string>;
}

interface PatchedTree {
  commitSha: string;
  changes: ChangedFile[];
  before: TreeState;
  after: TreeState;
}

/** Files under .github and action metadata anywhere: what the stages read besides the changed files. */
function isCiPath(filePath: string): boolean {
  return filePath.startsWith('.github/') || ACTION_FILE.test(filePath);
}

/** Keeps the first and last halves of a long log. */
export function boundLog(text: string, maxChars = MAX_STAGE_LOG_CHARS): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  return `${text.slice(0, half)}\n[... ${text.length - 2 * half} characters cut ...]\n${text.slice(-half)}`;
}

export function listedInSummary(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED_IN_SUMMARY).join('; ');
  return items.length > MAX_LISTED_IN_SUMMARY ? `${shown}; and ${items.length - MAX_LISTED_IN_SUMMARY} more` : shown;
}

function outcome(passed: boolean, summary: string, lines: readonly string[], details: Record<string, unknown>): StageOutcome {
  return { passed, summary, log: boundLog(lines.join('\n')), details };
}

/**
 * Reads the tested commit, makes its tree with the diff applied (in a scratch index of `gitDir`) and reads that
 * too; applies the diff to the work tree as well when there is one. Returns the stage's failing outcome when the
 * diff is unusable or does not apply.
 */
export async function prepareTree(context: TreeUnderTest): Promise<PreparedTree> {
  const { gitDir, diff, signal } = context;
  let changes: ChangedFile[];
  try {
    changes = changedFiles(diff);
  } catch (error) {
    if (error instanceof InvalidDiffError) return outcome(false, 'the diff is not usable', [error.message], {});
    throw error;
  }
  const { commit } = context;
  context.progress?.('applying the diff');
  let treeSha: string;
  try {
    treeSha = context.makeTree ? await context.makeTree(commit, diff, { signal }) : await treeWithDiff(gitDir, commit, diff, { signal });
    if (context.workTree !== undefined) await applyDiff(context.workTree, diff, { signal });
  } catch (error) {
    if (!(error instanceof PatchDoesNotApplyError)) throw error;
    const summary = error.alreadyApplied
      ? `the diff does not apply to ${context.target.branch} at ${commit.slice(0, 12)}: its changes are already there`
      : `the diff does not apply cleanly to ${context.target.branch} at ${commit.slice(0, 12)}`;
    return outcome(false, summary, [error.gitMessage], { commitSha: commit });
  }
  context.progress?.('reading the target tree');
  const oldPaths = new Set(changes.flatMap((change) => change.oldPath ?? []));
  const newPaths = new Set(changes.flatMap((change) => change.newPath ?? []));
  // Both sides in one read: the files the patch leaves alone are read once.
  const [before, after] = (await readTreeObjectsAndPaths(
    gitDir,
    [
      { treeish: commit, pathFilter: (filePath) => isCiPath(filePath) || oldPaths.has(filePath) },
      { treeish: treeSha, pathFilter: (filePath) => isCiPath(filePath) || newPaths.has(filePath) },
    ],
    { signal },
  )) as [TreeRead, TreeRead];
  return { commitSha: commit, changes, before: { files: before.files, paths: new Set(before.paths) }, after: { files: after.files, paths: new Set(after.paths) } };
}

const analyzerViews = new WeakMap<TreeState, RepositoryView>();
const ciViews = new WeakMap<TreeState, RepositoryView>();

/** Made once per tree state and shared by the stages that read it: parsing is most of what they cost. */
function memoized(views: WeakMap<TreeState, RepositoryView>, tree: TreeState, make: () => RepositoryView): RepositoryView {
  let view = views.get(tree);
  if (!view) {
    view = make();
    views.set(tree, view);
  }
  return view;
}

/** The repository as the analyzer sees it, the same view the target's analyses use (so scores compare). */
function analyzerView(tree: TreeState): RepositoryView {
  return memoized(analyzerViews, tree, () => repositoryFromFiles(tree.files, { existingPaths: tree.paths }));
}

/** The analyzer's view plus local actions outside .github/actions, which the runner uses just the same. */
function ciView(tree: TreeState): RepositoryView {
  return memoized(ciViews, tree, () => {
    const view = analyzerView(tree);
    const otherActions = [...tree.files]
      .filter(([filePath]) => workflowFileKind(filePath) === undefined && ACTION_FILE.test(filePath))
      .map(([filePath, text]) => parseWorkflowFile(filePath, text, 'action'));
    return { ...view, workflowFiles: [...view.workflowFiles, ...otherActions] };
  });
}

/** Paths of the workflows and actions the patch creates or changes. */
function changedCiFiles(tree: PatchedTree): string[] {
  return tree.changes.flatMap((change) =>
    change.newPath !== null && (workflowFileKind(change.newPath) !== undefined || ACTION_FILE.test(change.newPath)) ? [change.newPath] : [],
  );
}

// ---------------------------------------------------------------------------------------------------------------
// isolated
// ---------------------------------------------------------------------------------------------------------------

/** A finding as stage details list it. */
function findingFacts(finding: Pick<Finding, 'ruleId' | 'fingerprint' | 'severity' | 'file' | 'line' | 'column' | 'message'>) {
  return { ruleId: finding.ruleId, fingerprint: finding.fingerprint, severity: finding.severity, file: finding.file, line: finding.line, column: finding.column, message: finding.message };
}

function findingText(finding: Pick<Finding, 'ruleId' | 'severity' | 'file' | 'line' | 'column' | 'message'>): string {
  return `${finding.file}:${finding.line}:${finding.column}: ${finding.severity} ${finding.ruleId}: ${finding.message}`;
}

interface ClaimCheck {
  /** Claimed findings the analyzer no longer reports after the patch. */
  resolved: ResolvedFinding[];
  /** Claimed findings still reported after the patch. */
  unresolved: ResolvedFinding[];
  /** Findings at medium or above that the patch brings in. */
  introduced: Finding[];
}

const analysesOfSides = new WeakMap<PatchedTree, { before: AnalysisResult; after: AnalysisResult }>();

/** Both sides analyzed with every rule, once per prepared tree: the isolated and regression stages share it. */
function analyzedSides(tree: PatchedTree): { before: AnalysisResult; after: AnalysisResult } {
  let sides = analysesOfSides.get(tree);
  if (!sides) {
    sides = { before: analyzeRepository(analyzerView(tree.before), { rules: allRules }), after: analyzeRepository(analyzerView(tree.after), { rules: allRules }) };
    analysesOfSides.set(tree, sides);
  }
  return sides;
}

/** Analyzes both sides of a generated patch: which claimed findings are gone, and what at medium or above is new. */
function checkClaims(tree: PatchedTree, claims: readonly ResolvedFinding[]): ClaimCheck {
  const sides = analyzedSides(tree);
  const before = sides.before.findings;
  const after = sides.after.findings;
  const afterPrints = new Set(after.map((finding) => finding.fingerprint));
  return {
    resolved: claims.filter((finding) => !afterPrints.has(finding.fingerprint)),
    unresolved: claims.filter((finding) => afterPrints.has(finding.fingerprint)),
    introduced: introducedFindings(before, after, 'medium'),
  };
}

/**
 * The diff applies, and every CI file it touches parses and validates against GitHub's workflow schema. For a
 * patch generated from findings, the findings it claims to resolve are gone and nothing at medium or above is new.
 */
function isolatedStage(tree: PatchedTree, claims: readonly ResolvedFinding[] | undefined): StageOutcome {
  const changed = changedCiFiles(tree);
  const details: Record<string, unknown> = { commitSha: tree.commitSha, changedFiles: tree.changes.length, changedCiFiles: changed.length };
  const problems: string[] = [];
  const claimLines: string[] = [];
  if (changed.length > 0) {
    const result = analyzeRepository(ciView(tree.after), { rules: [yamlSyntaxRule, schemaViolationRule], only: changed });
    problems.push(
      ...result.findings.map((finding) => `${finding.file}:${finding.line}:${finding.column}: ${finding.message} (${finding.ruleId})`),
      ...result.diagnostics.map((diagnostic) => `${diagnostic.file}: the ${diagnostic.ruleId} check crashed: ${diagnostic.message}`),
    );
    if (problems.length > 0) details.problems = problems.length;
  }
  const schemaProblems = problems.length;
  let claimSummary = '';
  if (claims !== undefined) {
    const check = checkClaims(tree, claims);
    details.resolvedFindings = check.resolved.map(findingFacts);
    details.unresolvedFindings = check.unresolved.map(findingFacts);
    details.newFindings = check.introduced.map(findingFacts);
    claimLines.push(`${check.resolved.length} of ${claims.length} claimed finding(s) resolved`, ...check.resolved.map((finding) => `resolved: ${findingText(finding)}`));
    problems.push(
      ...check.unresolved.map((finding) => `still reported after the patch: ${findingText(finding)}`),
      ...check.introduced.map((finding) => `new after the patch: ${findingText(finding)}`),
    );
    claimSummary = `; ${check.resolved.length} of ${claims.length} claimed finding(s) resolved, no new finding at medium or above`;
  }
  if (problems.length > 0) {
    const where = problems.length === schemaProblems ? 'in the patched CI files' : 'after the patch';
    return outcome(false, `${problems.length} problem(s) ${where}: ${listedInSummary(problems)}`, [...problems, ...claimLines], details);
  }
  if (changed.length === 0) return outcome(true, `the diff applies cleanly; it changes no CI workflow file${claimSummary}`, claimLines, details);
  return outcome(true, `the diff applies cleanly; ${changed.length} changed CI file(s) parse and match GitHub's schema${claimSummary}`, [...changed, ...claimLines], details);
}

// ---------------------------------------------------------------------------------------------------------------
// integration
// ---------------------------------------------------------------------------------------------------------------

interface LocalReference {
  /** The file whose `uses:` it is. */
  file: string;
  uses: string;
  kind: 'reusable workflow' | 'action';
  /** The repository-relative path the reference names. */
  target: string;
}

/** Every `uses: ./...` of a file that stays inside the repository (`./../x` is checked out elsewhere at run time). */
function localReferences(file: WorkflowFile): LocalReference[] {
  const references: LocalReference[] = [];
  const add = (node: unknown, kind: LocalReference['kind']): void => {
    const uses = scalarText(node)?.trim();
    if (uses === undefined || !uses.startsWith('./') || parseActionRef(uses).kind !== 'local') return;
    const target = normalizeRepoPath(uses);
    if (target !== undefined) references.push({ file: file.path, uses, kind, target: target === '.' ? '' : target });
  };
  for (const job of jobsOf(file)) add(mapGet(job.node, 'uses'), 'reusable workflow');
  for (const step of stepsOf(file)) add(mapGet(step.node, 'uses'), 'action');
  return references;
}

function resolves(reference: LocalReference, view: RepositoryView): boolean {
  if (reference.kind === 'reusable workflow') return view.fileExists(reference.target);
  return LOCAL_ACTION_FILES.some((name) => view.fileExists(reference.target === '' ? name : `${reference.target}/${name}`));
}

function brokenReferences(tree: TreeState): LocalReference[] {
  const view = ciView(tree);
  return view.workflowFiles.flatMap(localReferences).filter((reference) => !resolves(reference, view));
}

/**
 * Local references the patch breaks: unresolved after it and not already unresolved before (those name folders a
 * job checks out at run time, e.g. another repository checked out into a path).
 */
function newlyBrokenReferences(tree: PatchedTree): LocalReference[] {
  const key = (reference: LocalReference): string => `${reference.kind}\0${reference.target}`;
  const before = new Set(brokenReferences(tree.before).map(key));
  return brokenReferences(tree.after).filter((reference) => !before.has(key(reference)));
}

function describeCommand(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w./:=@+-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}

function outputTail(label: string, text: string): string[] {
  const trimmed = text.trimEnd();
  return trimmed === '' ? [] : [`--- ${label} ---`, trimmed.length > MAX_STAGE_LOG_CHARS / 2 ? trimmed.slice(-MAX_STAGE_LOG_CHARS / 2) : trimmed];
}

export interface VerifyCommandOptions {
  /** The checkout the command verifies; it runs on a sandboxed copy. */
  dir: string;
  target: Pick<Target, 'sandbox'>;
  sandbox: SandboxConfig;
  signal?: AbortSignal;
}

/**
 * Runs a target's verify command in the sandbox on a copy of `dir` (no shell); the outcome says why it failed. The
 * log has the target's declared variables and recognized credentials redacted.
 */
export async function runVerifyCommand(argv: readonly string[], options: VerifyCommandOptions): Promise<{ ok: boolean; summary: string; log: string[] }> {
  const command = `$ ${describeCommand(argv)}`;
  const declared = options.target.sandbox.env;
  let result: SandboxedResult;
  try {
    result = await runSandboxed(argv, {
      sourceDir: options.dir,
      settings: options.target.sandbox,
      config: options.sandbox,
      timeoutMs: VERIFY_COMMAND_TIMEOUT_MS,
      signal: options.signal,
    });
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    const summary = `the verify command did not run: ${error.message}`;
    return { ok: false, summary, log: [command, summary] };
  }
  let summary: string;
  if (result.startError !== undefined) summary = `the verify command could not start: ${result.startError}`;
  else if (result.timedOut) summary = `the verify command timed out after ${VERIFY_COMMAND_TIMEOUT_MS / 60_000} minutes`;
  else if (result.exitCode === null) summary = `the verify command was killed by ${result.signal ?? 'a signal'}`;
  else summary = result.exitCode === 0 ? 'the verify command passed' : `the verify command failed with exit code ${result.exitCode}`;
  return {
    ok: result.exitCode === 0 && !result.timedOut,
    summary,
    // Redacted before the tail is cut, so a cut never leaves a secret's unrecognizable remainder.
    log: [
      command,
      `${summary} (${result.durationMs} ms; ${result.isolationNote})`,
      ...outputTail('stdout', commandOutputForPeople(result.stdout, declared)),
      ...outputTail('stderr', commandOutputForPeople(result.stderr, declared)),
    ],
  };
}

/** Local reusable workflows and actions the CI files use still exist; then the target's verify command passes. */
async function integrationStage(tree: PatchedTree, context: StageContext): Promise<StageOutcome> {
  const details: Record<string, unknown> = { commitSha: tree.commitSha };
  const broken = newlyBrokenReferences(tree);
  if (broken.length > 0) {
    const lines = broken.map((reference) =>
      `${reference.file}: uses: ${reference.uses}: ${reference.kind === 'action' ? `no ${LOCAL_ACTION_FILES.join(', ')} in the folder` : 'the file does not exist'} after the patch`,
    );
    return outcome(false, `the patch breaks ${broken.length} local reference(s): ${listedInSummary(lines)}`, lines, { ...details, brokenReferences: broken.length });
  }
  const argv = context.target.verifyCommand;
  if (!argv || argv.length === 0) return outcome(true, 'local references resolve; the target has no verify command', [], details);
  // A programming error, not a stage result: the caller prepares a checkout for every target with a verify command.
  if (context.workTree === undefined) throw new Error(`no checkout was prepared for the verify command of ${context.target.name}`);
  context.progress?.('running the verify command');
  const verify = await runVerifyCommand(argv, { ...context, dir: context.workTree });
  return outcome(verify.ok, `local references resolve; ${verify.summary}`, verify.log, details);
}

// ---------------------------------------------------------------------------------------------------------------
// safety
// ---------------------------------------------------------------------------------------------------------------

function patchedFiles(tree: PatchedTree): PatchedFile[] {
  const touched = new Set(tree.changes.flatMap((change) => [change.oldPath, change.newPath].filter((p): p is string => p !== null)));
  return [...touched].sort().map((filePath) => ({
    path: filePath,
    before: tree.before.files.get(filePath) ?? null,
    after: tree.after.files.get(filePath) ?? null,
  }));
}

/** Nothing silently removed or widened in the changed CI files, and no credential literal added. */
function safetyStage(tree: PatchedTree, diff: string): StageOutcome {
  const report = safetyReport(patchedFiles(tree), diff);
  const where = (item: { path: string; location?: string }): string => [item.path, item.location].filter(Boolean).join(' ');
  const violations = report.violations.map((violation) => `${where(violation)}: ${violation.message} (${violation.kind})`);
  const neutral = report.neutralChanges.map((change) => `${where(change)}: ${change.message}`);
  const lines = [...violations, ...(neutral.length > 0 ? ['Other changes:', ...neutral] : [])];
  const details = { commitSha: tree.commitSha, violations: violations.length, neutralChanges: neutral.length };
  if (!report.ok) return outcome(false, `${violations.length} safety violation(s): ${listedInSummary(violations)}`, lines, details);
  return outcome(true, `no safety violation (${neutral.length} other change(s) for the reviewer)`, lines, details);
}

// ---------------------------------------------------------------------------------------------------------------
// regression
// ---------------------------------------------------------------------------------------------------------------

/** No new finding at severity high or above, and the repository's score does not drop. */
function regressionStage(tree: PatchedTree): StageOutcome {
  const { before, after } = analyzedSides(tree);
  const known = new Set(before.findings.map((finding) => finding.fingerprint));
  const introduced = after.findings.filter((finding) => atLeast(finding.severity, 'high') && !known.has(finding.fingerprint));
  const resolved = before.findings.length - after.findings.filter((finding) => known.has(finding.fingerprint)).length;
  const lines = introduced.map((finding) => `${finding.file}:${finding.line}:${finding.column}: ${finding.severity} ${finding.ruleId}: ${finding.message}`);
  const score = `score ${before.score} -> ${after.score}`;
  const details = { commitSha: tree.commitSha, scoreBefore: before.score, scoreAfter: after.score, newSevereFindings: introduced.length, resolvedFindings: resolved };
  const problems = [
    ...(introduced.length > 0 ? [`${introduced.length} new finding(s) at high or critical severity`] : []),
    ...(after.score < before.score ? [`the score drops (${score})`] : []),
  ];
  if (problems.length > 0) return outcome(false, `${problems.join('; ')}: ${listedInSummary(lines.length > 0 ? lines : [score])}`, [score, ...lines], details);
  return outcome(true, `no new high or critical finding, ${score}, ${resolved} finding(s) resolved`, [score], details);
}

/**
 * Runs one stage on the tested commit (and its checkout, which it leaves patched). Summary and log have the
 * target's declared sandbox variables and recognized credentials redacted: any viewer may read them.
 */
export async function runStage(stage: TreeStage, context: TreeUnderTest): Promise<StageReport> {
  return runStageOnTree(stage, await prepareTree(context), context);
}

/** One tree stage on a tree prepared from the same context (its checkout, if any, must outlive the call). */
export async function runStageOnTree(stage: TreeStage, patched: PreparedTree, context: StageContext): Promise<StageReport> {
  let result: StageOutcome;
  if ('passed' in patched) result = patched;
  else {
    context.progress?.(`running the ${stage} stage`);
    switch (stage) {
      case 'isolated':
        result = isolatedStage(patched, context.claims);
        break;
      case 'integration':
        result = await integrationStage(patched, context);
        break;
      case 'safety':
        result = safetyStage(patched, context.diff);
        break;
      case 'regression':
        result = regressionStage(patched);
        break;
    }
  }
  const declared = context.target.sandbox.env;
  return { stage, targetId: context.target.id, ...result, summary: commandOutputForPeople(result.summary, declared), log: commandOutputForPeople(result.log, declared) };
}
