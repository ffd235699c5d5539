/**
 * Patches generated from analysis findings: each analysed target gets its own diff, made by the fixer on the
 * commit its analysis saw, plus a title, a description that lists the findings it resolves (with links to the
 * rules' documentation) and a patch type derived from their categories. Targets with nothing to fix are left out
 * and named with the reason. The same fixer run makes a target's diff again when its branch moved (regeneration).
 */
import { repositoryViewAt } from '../analysis/checkout-view';
import { RULES_DOC_PATH, ruleDocAnchor } from '../analysis/docs';
import { allRules } from '../analysis/rules';
import type { Config } from '../config';
import {
  type Analysis,
  CATEGORIES,
  type Category,
  type Finding,
  type FindingSelection,
  type PatchType,
  type ResolvedFinding,
  SEVERITIES,
  type Target,
} from '../domain/types';
import { type FixedFile, fixRepository, type FixOutcome } from '../fixes/fix-repository';
import { actionRefLookupFor } from '../fixes/git-action-refs';
import { checkout, disposeCheckout, GitCommandError, type GitOptions, RefNotFoundError } from '../git';
import { getAnalysis, getFindings } from '../store/analyses';
import type { NewTargetDiff } from '../store/patch-target-diffs';
import { getTargets } from '../store/targets';
import type { Pool } from 'pg';

/** What `fromFindings` of a patch request asks for. */
export interface FromFindingsRequest extends FindingSelection {
  analysisIds: string[];
}

/** The request cannot make a patch: the message says why; `details` become problem+json members. */
export class PatchGenerationRefused extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'PatchGenerationRefused';
  }
}

/** A completed analysis of a registered target, with its stored findings. */
export interface FindingSource {
  analysis: Analysis;
  /** The commit the analysis saw. */
  commitSha: string;
  target: Target;
  findings: Finding[];
}

export interface GeneratedTargetDiff extends NewTargetDiff {
  target: Target;
  /** The files the diff changes, before and after: what the quorum rules judge (risk-quorum.ts). */
  files: FixedFile[];
}

/** A target left out of a generated patch, and why. */
export interface SkippedTarget {
  targetId: string;
  target: string;
  reason: string;
}

export interface GeneratedDiffs {
  diffs: GeneratedTargetDiff[];
  skipped: SkippedTarget[];
}

/** How the fixer reaches outside: git for the checkout, and the action repositories pinning resolves refs in. */
export interface FixEnvironment {
  git: GitOptions;
  actions: Config['actions'];
}

/** Where checkouts go, how git runs (hardened environment, repository URL policy) and where actions are listed. */
export interface GenerationEnvironment extends FixEnvironment {
  workRoot: string;
  /** git configuration that lets a target's clone read it (its forge credential), when it has one. */
  gitAccess?: (target: Target) => Promise<Record<string, string>>;
}

/** The patch type each finding category calls for. */
const CATEGORY_PATCH_TYPES: Readonly<Record<Category, PatchType>> = {
  security: 'security',
  performance: 'performance',
  efficiency: 'refactor',
  compatibility: 'bug_fix',
  quality: 'refactor',
};

/** Targets whose checkouts are made at the same time while generating. */
const GENERATION_CONCURRENCY = 4;
const MAX_TITLE_CHARS = 200;
/** Stays under what a caller may write into a description themselves. */
const MAX_DESCRIPTION_CHARS = 10_000;
const RULES_IN_TITLE = 2;
const SHORT_SHA = 12;

/**
 * The analyses of a request, checked: each exists and succeeded, belongs to a registered target, no target twice,
 * and every requested fingerprint is one of their findings'.
 */
export async function loadFindingSources(pool: Pool, request: FromFindingsRequest): Promise<FindingSource[]> {
  const analyses = await Promise.all(request.analysisIds.map(async (id) => ({ id, analysis: await getAnalysis(pool, id) })));
  const missing = analyses.filter((entry) => entry.analysis === undefined).map((entry) => entry.id);
  if (missing.length > 0) throw new PatchGenerationRefused(`No analysis ${missing.join(', ')}.`, { missingAnalyses: missing });
  const found = analyses.flatMap((entry) => (entry.analysis ? [entry.analysis] : []));
  const unfinished = found.filter((analysis) => analysis.status !== 'succeeded' || analysis.commitSha === null);
  if (unfinished.length > 0) {
    const words = unfinished.map((analysis) => `${analysis.id} is ${analysis.status === 'running' ? 'still running' : `failed${analysis.error ? ` (${analysis.error})` : ''}`}`);
    throw new PatchGenerationRefused(`Only completed analyses can be fixed: analysis ${words.join('; ')}.`, { unfinishedAnalyses: unfinished.map((analysis) => analysis.id) });
  }
  const targets = await getTargets(pool, [...new Set(found.map((analysis) => analysis.targetId))]);
  const orphaned = found.filter((analysis) => !targets.some((target) => target.id === analysis.targetId));
  if (orphaned.length > 0) {
    throw new PatchGenerationRefused(`Analysis ${orphaned.map((analysis) => analysis.id).join(', ')} belongs to a target that is no longer registered.`, {
      unregisteredTargets: orphaned.map((analysis) => analysis.targetId),
    });
  }
  const byTarget = new Map<string, string[]>();
  for (const analysis of found) byTarget.set(analysis.targetId, [...(byTarget.get(analysis.targetId) ?? []), analysis.id]);
  const duplicates = [...byTarget].filter(([, ids]) => ids.length > 1);
  if (duplicates.length > 0) {
    const name = (targetId: string): string => targets.find((target) => target.id === targetId)?.name ?? targetId;
    throw new PatchGenerationRefused(
      `A patch has one diff per target, so give one analysis per target: ${duplicates.map(([targetId, ids]) => `${name(targetId)} has analyses ${ids.join(', ')}`).join('; ')}.`,
      { duplicateTargets: duplicates.map(([targetId, ids]) => ({ targetId, target: name(targetId), analysisIds: ids })) },
    );
  }
  const sources = await Promise.all(
    found.map(async (analysis) => ({
      analysis,
      commitSha: analysis.commitSha ?? '',
      target: targets.find((target) => target.id === analysis.targetId) as Target,
      findings: await getFindings(pool, analysis.id),
    })),
  );
  const known = new Set(sources.flatMap((source) => source.findings.map((finding) => finding.fingerprint)));
  const unknown = (request.fingerprints ?? []).filter((fingerprint) => !known.has(fingerprint));
  if (unknown.length > 0) {
    throw new PatchGenerationRefused(`No finding of the given analyses has the fingerprint ${unknown.join(', ')}.`, { unknownFingerprints: unknown });
  }
  return sources;
}

/** Runs the fixer on `commit` (default HEAD) of the clone `dir` with the selection's rules, fingerprints and safety. */
export async function fixCommit(dir: string, commit: string | undefined, selection: FindingSelection, env: FixEnvironment): Promise<{ outcome: FixOutcome; commitSha: string }> {
  const { view, commitSha } = await repositoryViewAt(dir, commit, env.git);
  // Pinning needs the action repositories' refs, listed before fixing (only when pinning is selected).
  const actionRefs = await actionRefLookupFor(view.workflowFiles, env, selection.ruleIds ? { ruleIds: selection.ruleIds } : {});
  const outcome = await fixRepository(view, { rules: allRules, ruleIds: selection.ruleIds, fingerprints: selection.fingerprints, unsafe: selection.unsafe, actionRefs });
  return { outcome, commitSha };
}

/** Control, bidirectional and line-separating characters: repository text with them displays unlike it is stored. */
function isDisplayControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x200e || code === 0x200f || (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) || code === 0x2028 || code === 0x2029 || code === 0xfeff;
}

/** Repository-derived text (finding messages quote the workflow) as one plain line. */
function plainText(text: string): string {
  return Array.from(text, (char) => (isDisplayControl(char.codePointAt(0) ?? 0) ? ' ' : char)).join('').trim();
}

/** The findings a fixer run resolved, as a patch records them. */
export function resolvedFindings(outcome: FixOutcome): ResolvedFinding[] {
  return outcome.applied.map(({ finding, title, safety }) => ({
    ruleId: finding.ruleId,
    fingerprint: finding.fingerprint,
    category: finding.category,
    severity: finding.severity,
    file: finding.file,
    line: finding.line,
    column: finding.column,
    message: plainText(finding.message),
    fix: plainText(title),
    safety,
    docs: `${RULES_DOC_PATH}${ruleDocAnchor(finding.ruleId)}`,
  }));
}

function isSelected(finding: Finding, selection: FindingSelection): boolean {
  return (selection.ruleIds?.includes(finding.ruleId) ?? true) && (selection.fingerprints?.includes(finding.fingerprint) ?? true);
}

/** Why a fixer run that changed nothing left the target out. */
export function nothingToFixReason(outcome: FixOutcome, selection: FindingSelection): string {
  if (outcome.unfixable.length > 0) {
    const reasons = [...new Set(outcome.unfixable.map((entry) => `${entry.finding.ruleId}: ${plainText(entry.reason)}`))];
    return `none of the ${outcome.unfixable.length} selected finding(s) can be fixed automatically: ${reasons.slice(0, 3).join('; ')}`;
  }
  const unsafeOnly = outcome.remaining.filter((finding) => finding.fixSafety === 'unsafe' && isSelected(finding, selection));
  if (!selection.unsafe && unsafeOnly.length > 0) {
    return `the ${unsafeOnly.length} selected finding(s) have only fixes that may change behaviour; set fromFindings.unsafe to apply them`;
  }
  return 'no fixable finding matches the selection';
}

async function generateForSource(source: FindingSource, selection: FindingSelection, env: GenerationEnvironment): Promise<GeneratedTargetDiff | SkippedTarget> {
  const { target, analysis, commitSha } = source;
  const skipped = (reason: string): SkippedTarget => ({ targetId: target.id, target: target.name, reason });
  if (!source.findings.some((finding) => finding.fixable)) return skipped(`analysis ${analysis.id} has no fixable finding`);
  let clone;
  try {
    const access = (await env.gitAccess?.(target)) ?? {};
    clone = await checkout(target.repoUrl, target.branch, env.workRoot, { ...env.git, config: { ...env.git.config, ...access } });
  } catch (error) {
    if (error instanceof RefNotFoundError) return skipped(`the branch ${target.branch} no longer exists`);
    throw error;
  }
  try {
    const { outcome } = await fixCommit(clone.dir, commitSha, selection, env);
    if (outcome.diff === '') return skipped(nothingToFixReason(outcome, selection));
    return { target, targetId: target.id, analysisId: analysis.id, analysisCommit: commitSha, diff: outcome.diff, selection, findings: resolvedFindings(outcome), files: outcome.files };
  } catch (error) {
    // The commit is gone from the branch's recent history (a force-push, or far behind): analyze again.
    if (error instanceof GitCommandError) return skipped(`the commit ${commitSha.slice(0, SHORT_SHA)} its analysis saw is no longer on ${target.branch}; analyze the target again`);
    throw error;
  } finally {
    await disposeCheckout(clone.dir);
  }
}

/** One diff per source target at its analysis's commit, in the order of the sources; targets without one are named. */
export async function generateTargetDiffs(sources: readonly FindingSource[], selection: FindingSelection, env: GenerationEnvironment): Promise<GeneratedDiffs> {
  const results: Array<GeneratedTargetDiff | SkippedTarget | undefined> = sources.map(() => undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length) {
      const index = next++;
      results[index] = await generateForSource(sources[index] as FindingSource, selection, env);
    }
  };
  await Promise.all(Array.from({ length: Math.min(GENERATION_CONCURRENCY, sources.length) }, worker));
  return {
    diffs: results.filter((result): result is GeneratedTargetDiff => result !== undefined && 'diff' in result),
    skipped: results.filter((result): result is SkippedTarget => result !== undefined && 'reason' in result),
  };
}

const SEVERITY_ORDER = (finding: ResolvedFinding): number => SEVERITIES.indexOf(finding.severity) * CATEGORIES.length + CATEGORIES.indexOf(finding.category);

/** The patch type of the most severe resolved finding's category (security first among equals). */
export function patchTypeFor(findings: readonly ResolvedFinding[]): PatchType {
  const [mostSevere] = [...findings].sort((a, b) => SEVERITY_ORDER(a) - SEVERITY_ORDER(b));
  return CATEGORY_PATCH_TYPES[mostSevere?.category ?? 'quality'];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** "Fix 3 missing-job-timeout findings on 2 targets", naming at most two rules. */
export function generatedTitle(diffs: readonly GeneratedTargetDiff[]): string {
  const findings = diffs.flatMap((entry) => entry.findings);
  const rules = [...new Set(findings.map((finding) => finding.ruleId))].sort();
  const shown = rules.slice(0, RULES_IN_TITLE).join(', ');
  const ruleText = rules.length === 1 ? `${shown} ${findings.length === 1 ? 'finding' : 'findings'}` : `${plural(findings.length, 'finding')} (${shown}${rules.length > RULES_IN_TITLE ? `, +${rules.length - RULES_IN_TITLE} more rules` : ''})`;
  const title = `Fix ${rules.length === 1 ? `${findings.length} ` : ''}${ruleText} on ${plural(diffs.length, 'target')}`;
  return title.length <= MAX_TITLE_CHARS ? title : `${title.slice(0, MAX_TITLE_CHARS - 1)}…`;
}

function findingLine(finding: ResolvedFinding): string {
  const safety = finding.safety === 'unsafe' ? ' (unsafe fix: review the behaviour change)' : '';
  return `- [\`${finding.ruleId}\`](${finding.docs}) ${finding.severity} ${finding.category}, \`${finding.file}:${finding.line}\`: ${finding.message} Fix: ${finding.fix}${safety}`;
}

/** Markdown: per target, the findings the diff resolves with links to their rules; then the targets left out. */
export function generatedDescription(diffs: readonly GeneratedTargetDiff[], skipped: readonly SkippedTarget[]): string {
  const count = diffs.reduce((total, entry) => total + entry.findings.length, 0);
  const lines = [`Generated from analysis findings: resolves ${plural(count, 'finding')} on ${plural(diffs.length, 'target')}.`];
  for (const entry of diffs) {
    lines.push('', `**${entry.target.name}** at ${entry.analysisCommit.slice(0, SHORT_SHA)} (analysis ${entry.analysisId}):`, ...entry.findings.map(findingLine));
  }
  if (skipped.length > 0) lines.push('', 'Left out:', ...skipped.map((entry) => `- ${entry.target}: ${entry.reason}`));
  const text = lines.join('\n');
  if (text.length <= MAX_DESCRIPTION_CHARS) return text;
  const cut = '\n[… the full list is in the patch\'s per-target diffs]';
  return `${text.slice(0, MAX_DESCRIPTION_CHARS - cut.length)}${cut}`;
}

/**
 * The patch's own diff text: each target's diff under a comment naming the target and commit. The activities use
 * the per-target diffs; this text identifies the whole change (its hash is the patch's diffSha256).
 */
export function combinedDiff(diffs: readonly GeneratedTargetDiff[]): string {
  return diffs.map((entry) => `# ${entry.target.name} at ${entry.analysisCommit}\n${entry.diff}`).join('\n');
}
