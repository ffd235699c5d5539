/**
 * Turns findings into edited files: analyze, pick the selected fixable findings, apply the fixes whose edits do not
 * overlap, verify each changed file, re-analyze, and repeat until nothing selected is left to fix. A fix whose file
 * no longer parses, fails the schema, keeps its finding or brings a new one of medium severity or worse is dropped.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Finding, FixSafety } from '../domain/types';
import type { AnalyzerConfig } from '../analysis/config';
import { withFileTexts } from '../analysis/discover';
import { fitsBeside, normalizeEdits, type TextEdit, applyEdits } from '../analysis/edit/text-edits';
import { isUnfixable } from '../analysis/edit/yaml-edits';
import { type AnalysisResult, analyzeRepository, atLeast } from '../analysis/engine';
import { type ActionRefLookup, DEFAULT_FIX_SETTINGS, type FixPlan, type FixSettings, type RepositoryView, type Rule, type WorkflowFile } from '../analysis/rule';
import { unresolvedActionRefs } from './action-refs';
import { type FileChange, unifiedDiff } from './unified-diff';

export interface FixOptions {
  rules: readonly Rule[];
  config?: AnalyzerConfig;
  /** Fix only findings of these rules. */
  ruleIds?: readonly string[];
  /** Fix only findings with these fingerprints (stable across the edits of earlier passes). */
  fingerprints?: readonly string[];
  /** Also apply unsafe fixes; default false: only safe ones. */
  unsafe?: boolean;
  settings?: Partial<FixSettings>;
  /** Default: one that resolves nothing. */
  actionRefs?: ActionRefLookup;
  /** Fix only these repository-relative paths. */
  only?: readonly string[];
}

/** A file the fixes changed: its path from the repository root and both texts. */
export type FixedFile = FileChange;

export interface AppliedFix {
  finding: Finding;
  title: string;
  safety: FixSafety;
}

export interface FixOutcome {
  /** Files whose text changed, sorted by path. */
  files: FixedFile[];
  /** Unified diff of `files` (`a/`, `b/` prefixes, paths from the repository root); '' when nothing changed. */
  diff: string;
  applied: AppliedFix[];
  /** Selected findings that were not fixed, with why (including findings whose rule explains why it has no fix). */
  unfixable: Array<{ finding: Finding; reason: string }>;
  /** The findings after fixing. */
  remaining: Finding[];
  /** Findings of medium severity or worse that were not there before. */
  introduced: Finding[];
}

/** Enough passes for fixes that wait for an overlapping one; each pass fixes every finding it can. */
const MAX_PASSES = 8;
const SCHEMA_RULE_ID = 'schema-violation';

/** One finding's fix, computed on the file of the current pass. */
interface Candidate {
  finding: Finding;
  plan: FixPlan;
  edits: TextEdit[];
}

/** What makes two findings the same finding when an edit changed the text their fingerprint covers. */
function identityOf(finding: Finding): string {
  return `${finding.ruleId}\u0000${finding.file}\u0000${finding.message}`;
}

/**
 * True when every fixed finding is gone after the edit: its fingerprint is not reported and there are fewer
 * findings of its rule, file and message (an edit of the text a fingerprint covers changes the fingerprint).
 */
function removesFindings(before: readonly Finding[], after: readonly Finding[], fixed: readonly Finding[]): boolean {
  const remaining = new Set(after.map((finding) => finding.fingerprint));
  if (fixed.some((finding) => remaining.has(finding.fingerprint))) return false;
  const count = (findings: readonly Finding[], identity: string): number => findings.filter((finding) => identityOf(finding) === identity).length;
  return [...new Set(fixed.map(identityOf))].every(
    (identity) => count(before, identity) - count(after, identity) >= count(fixed, identity),
  );
}

/**
 * Findings after an edit that were not there before: those of a rule, file and message that now occur more often,
 * taking the ones with new fingerprints (a finding whose anchor text an edit changed is the same finding).
 */
export function introducedFindings(before: readonly Finding[], after: readonly Finding[], threshold: Finding['severity'] = 'medium'): Finding[] {
  const known = new Set(before.map((finding) => finding.fingerprint));
  const budget = new Map<string, number>();
  for (const finding of before) budget.set(identityOf(finding), (budget.get(identityOf(finding)) ?? 0) + 1);
  for (const finding of after) budget.set(identityOf(finding), (budget.get(identityOf(finding)) ?? 0) - 1);
  return after.filter((finding) => {
    const excess = -(budget.get(identityOf(finding)) ?? 0);
    if (known.has(finding.fingerprint) || excess <= 0 || !atLeast(finding.severity, threshold)) return false;
    budget.set(identityOf(finding), (budget.get(identityOf(finding)) ?? 0) + 1);
    return true;
  });
}

class FixRun {
  readonly applied: AppliedFix[] = [];
  readonly unfixable = new Map<string, { finding: Finding; reason: string }>();
  /** Fingerprints fixed or given up on: never tried again. */
  private readonly settled = new Set<string>();
  /**
   * Identities of findings given up on, and the fingerprints of the previous pass (none before the first): a
   * finding with a new fingerprint and a given-up identity is the same finding after an edit of its text.
   */
  private readonly givenUp = new Set<string>();
  private previousPass: ReadonlySet<string> | undefined;
  /** The edited files verification parsed in this pass, by path: the view after the pass reuses those it keeps. */
  private readonly verifiedFiles = new Map<string, WorkflowFile>();
  private readonly settings: FixSettings;
  private readonly actionRefs: ActionRefLookup;
  private readonly ruleIds: ReadonlySet<string> | undefined;
  private readonly fingerprints: ReadonlySet<string> | undefined;

  constructor(private readonly options: FixOptions) {
    this.settings = { ...DEFAULT_FIX_SETTINGS, ...options.settings };
    this.actionRefs = options.actionRefs ?? unresolvedActionRefs;
    this.ruleIds = options.ruleIds ? new Set(options.ruleIds) : undefined;
    this.fingerprints = options.fingerprints ? new Set(options.fingerprints) : undefined;
  }

  analyze(view: RepositoryView, only = this.options.only): AnalysisResult {
    return analyzeRepository(view, {
      rules: this.options.rules,
      withFixPlans: true,
      ...(this.options.config ? { config: this.options.config } : {}),
      ...(only ? { only } : {}),
    });
  }

  /** Matches the rule and fingerprint filters. */
  wanted(finding: Finding): boolean {
    return (this.ruleIds?.has(finding.ruleId) ?? true) && (this.fingerprints?.has(finding.fingerprint) ?? true);
  }

  /** Selected, fixable at an allowed safety, and not yet settled. */
  private selectable(finding: Finding): boolean {
    return (
      finding.fixable &&
      this.wanted(finding) &&
      (finding.fixSafety === 'safe' || this.options.unsafe === true) &&
      !this.settled.has(finding.fingerprint) &&
      !(this.previousPass !== undefined && !this.previousPass.has(finding.fingerprint) && this.givenUp.has(identityOf(finding)))
    );
  }

  giveUp(finding: Finding, reason: string): void {
    this.settled.add(finding.fingerprint);
    this.givenUp.add(identityOf(finding));
    this.unfixable.set(finding.fingerprint, { finding, reason });
  }

  /** The candidates of one pass by file; each file's candidates have pairwise disjoint edits. */
  private candidates(view: RepositoryView, result: AnalysisResult): Map<string, Candidate[]> {
    const byFile = new Map<string, Candidate[]>();
    const selected = result.findings.filter((item) => this.selectable(item));
    this.previousPass = new Set(result.findings.map((finding) => finding.fingerprint));
    for (const finding of selected) {
      const plan = result.fixPlans?.get(finding.fingerprint);
      const file = view.workflowFiles.find((item) => item.path === finding.file);
      if (plan === undefined || file === undefined) continue;
      let edits: TextEdit[];
      try {
        const planned = plan.edits({ file, repo: view, settings: this.settings, actionRefs: this.actionRefs });
        if (isUnfixable(planned)) {
          this.giveUp(finding, planned.unfixable);
          continue;
        }
        edits = normalizeEdits(planned, file.text.length);
      } catch (error) {
        this.giveUp(finding, `the fix failed: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      if (edits.length === 0) {
        this.giveUp(finding, 'the fix found nothing to change');
        continue;
      }
      const accepted = byFile.get(file.path) ?? [];
      // An overlapping fix waits for the next pass, where it is computed again on the edited text.
      if (fitsBeside(accepted.flatMap((candidate) => candidate.edits), edits)) byFile.set(file.path, [...accepted, { finding, plan, edits }]);
    }
    return byFile;
  }

  /** Why the file after `candidates` must not be kept, or undefined when it is fine. */
  private problemWith(view: RepositoryView, before: AnalysisResult, path: string, candidates: readonly Candidate[]): string | undefined {
    const file = view.workflowFiles.find((item) => item.path === path);
    if (file === undefined) return 'the file is gone';
    const text = applyEdits(file.text, candidates.flatMap((candidate) => candidate.edits));
    const edited = withFileTexts(view, new Map([[path, text]]));
    const editedFile = edited.workflowFiles.find((item) => item.path === path);
    if (editedFile !== undefined) this.verifiedFiles.set(path, editedFile);
    const syntaxError = editedFile?.doc.errors[0];
    if (syntaxError !== undefined) return `the fixed file does not parse: ${syntaxError.message.split('\n')[0] ?? ''}`;
    const after = this.analyze(edited, [path]).findings;
    const beforeInFile = before.findings.filter((finding) => finding.file === path);
    const schema = after.find((finding) => finding.ruleId === SCHEMA_RULE_ID && !beforeInFile.some((old) => old.fingerprint === finding.fingerprint));
    if (schema !== undefined) return `the fixed file breaks the workflow schema: ${schema.message}`;
    if (!removesFindings(beforeInFile, after, candidates.map((candidate) => candidate.finding))) return 'the edit did not remove the finding';
    const introduced = introducedFindings(beforeInFile, after)[0];
    return introduced === undefined ? undefined : `the fix brings a new finding: ${introduced.ruleId}: ${introduced.message}`;
  }

  /**
   * The candidates of one file that may be applied together. All of them when the result is fine; else those that
   * are fine alone (the others are dropped with the reason) if they are fine together, else the first of them.
   */
  private verified(view: RepositoryView, before: AnalysisResult, path: string, candidates: readonly Candidate[]): Candidate[] {
    if (this.problemWith(view, before, path, candidates) === undefined) return [...candidates];
    const fineAlone = candidates.filter((candidate) => {
      const problem = this.problemWith(view, before, path, [candidate]);
      if (problem !== undefined) this.giveUp(candidate.finding, problem);
      return problem === undefined;
    });
    if (fineAlone.length <= 1 || this.problemWith(view, before, path, fineAlone) === undefined) return fineAlone;
    return fineAlone.slice(0, 1);
  }

  /** One pass: the texts of the files it changed, or an empty map when it changed nothing. */
  pass(view: RepositoryView, result: AnalysisResult): Map<string, string> {
    const texts = new Map<string, string>();
    for (const [path, candidates] of this.candidates(view, result)) {
      const kept = this.verified(view, result, path, candidates);
      const file = view.workflowFiles.find((item) => item.path === path);
      if (kept.length === 0 || file === undefined) continue;
      texts.set(path, applyEdits(file.text, kept.flatMap((candidate) => candidate.edits)));
      for (const { finding, plan } of kept) {
        this.settled.add(finding.fingerprint);
        this.applied.push({ finding, title: plan.title, safety: plan.safety });
      }
    }
    return texts;
  }

  /** The view with the texts of a pass; parsing is most of an analysis, so files parsed by verification are reused. */
  withTexts(view: RepositoryView, texts: ReadonlyMap<string, string>): RepositoryView {
    const reusable = (path: string): WorkflowFile | undefined => {
      const file = this.verifiedFiles.get(path);
      return file !== undefined && file.text === texts.get(path) ? file : undefined;
    };
    const edited = withFileTexts(view, new Map([...texts].filter(([path]) => reusable(path) === undefined)));
    const workflowFiles = edited.workflowFiles.map((file) => reusable(file.path) ?? file);
    this.verifiedFiles.clear();
    return { ...edited, workflowFiles };
  }

  /** Selected fixable findings still there at the end that no pass got to (their edits kept overlapping others). */
  leftOver(result: AnalysisResult): void {
    for (const finding of result.findings) {
      if (this.selectable(finding) && !this.givenUp.has(identityOf(finding))) this.giveUp(finding, `its edits overlapped other fixes for ${MAX_PASSES} passes; run the fix again`);
    }
  }
}

/**
 * Fixes the selected findings of a repository view. Pure apart from yielding to the event loop between passes: the
 * view is not changed and nothing is written; the outcome has the new texts and their diff.
 */
export async function fixRepository(view: RepositoryView, options: FixOptions): Promise<FixOutcome> {
  const run = new FixRun(options);
  const initial = run.analyze(view);
  for (const finding of initial.findings) {
    if (!finding.fixable && finding.fixNote !== undefined && run.wanted(finding)) run.giveUp(finding, finding.fixNote);
  }
  let current = view;
  let result = initial;
  for (let pass = 0; pass < MAX_PASSES; pass += 1) {
    const texts = run.pass(current, result);
    if (texts.size === 0) break;
    current = run.withTexts(current, texts);
    result = run.analyze(current);
    // A long fix must not hold up the other work of the process (the API, a worker's heartbeats).
    await nextTurn();
  }
  run.leftOver(result);
  const originals = new Map(view.workflowFiles.map((file) => [file.path, file.text]));
  const files: FixedFile[] = current.workflowFiles
    .filter((file) => originals.get(file.path) !== file.text)
    .map((file) => ({ path: file.path, before: originals.get(file.path) ?? '', after: file.text }));
  return {
    files,
    diff: unifiedDiff(files),
    applied: run.applied,
    unfixable: [...run.unfixable.values()],
    remaining: result.findings,
    introduced: introducedFindings(initial.findings, result.findings),
  };
}
