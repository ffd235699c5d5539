/**
 * The analyzer engine: runs the rules over every CI file of a repository view and turns their reports into
 * complete, positioned, fingerprinted, filtered and scored findings in a deterministic order.
 */
import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import { isMap, isPair, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { CATEGORIES, type Category, type Finding, SEVERITIES, type Severity, type SourceRange } from '../domain/types';
import { type AnalyzerConfig, DEFAULT_CONFIG } from './config';
import { type FixPlan, rangeOf, type RepositoryView, type Rule, type RuleReport, type WorkflowFile } from './rule';
import { fileScore, repositoryScore } from './score';
import { isSuppressed, parseSuppressions } from './suppress';

/** The rule run alone on files that do not parse as YAML. */
export const YAML_SYNTAX_RULE_ID = 'yaml-syntax';

export interface AnalyzeOptions {
  /** The rules to run, usually `allRules` (not imported here so a single-rule run loads only that rule). */
  rules: readonly Rule[];
  /** Rule settings and ignored paths; firstPartyOwners is already part of the view. */
  config?: AnalyzerConfig;
  /** Fingerprints of accepted findings, which are not reported. */
  baseline?: ReadonlySet<string>;
  /** Report only findings at least this severe. */
  minSeverity?: Severity;
  /** Run only the rules of these categories. */
  categories?: readonly Category[];
  /** Analyze only these repository-relative paths; the other files stay visible to cross-file rules. */
  only?: readonly string[];
  /**
   * What a rule that throws does: `record` (default) keeps going and lists the error in `diagnostics`; `throw`
   * rethrows, for tests.
   */
  ruleErrors?: 'record' | 'throw';
  /** Measure time spent per rule (milliseconds, summed over files) into `ruleTimings`. */
  profile?: boolean;
  /** Keep the fix plans of the reported findings in `fixPlans` (for fixing; plans are functions, not data). */
  withFixPlans?: boolean;
}

/** A problem of the analyzer itself (a rule that crashed), not of the analyzed files. */
export interface AnalysisDiagnostic {
  file: string;
  ruleId: string;
  message: string;
}

export interface FileScore {
  path: string;
  score: number;
}

export interface AnalysisResult {
  /** Sorted by file, line, column, rule id. */
  findings: Finding[];
  /** Every analyzed file with its score, sorted by path. */
  files: FileScore[];
  score: number;
  diagnostics: AnalysisDiagnostic[];
  /** Findings hidden by `# wpa: ignore[...]` comments. */
  suppressed: number;
  /** Findings hidden because their fingerprint is in the baseline. */
  baselined: number;
  ruleTimings?: Record<string, number>;
  /** With `withFixPlans`: the plan of every reported fixable finding, by fingerprint. */
  fixPlans?: ReadonlyMap<string, FixPlan>;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.fromEntries(
  SEVERITIES.map((severity, index) => [severity, SEVERITIES.length - index]),
) as Record<Severity, number>;

/** True when `severity` is at least as severe as `threshold`. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold];
}

type UnfingerprintedFinding = Omit<Finding, 'fingerprint'>;

/** Deterministic finding order: file, position, rule id, then the rest so that ties never depend on rule order. */
export function compareFindings(a: UnfingerprintedFinding, b: UnfingerprintedFinding): number {
  return (
    compareText(a.file, b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    compareText(a.ruleId, b.ruleId) ||
    a.endLine - b.endLine ||
    a.endColumn - b.endColumn ||
    compareText(a.message, b.message)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pathSegment(key: string): string {
  return key.replace(/[~/]/g, (c) => (c === '~' ? '~0' : '~1'));
}

/** Where a node or pair starts in the text (a pair starts at its key). */
function startOf(target: Node | Pair): number | undefined {
  if (!isPair(target)) return target.range?.[0];
  return (target.key as Node | null)?.range?.[0] ?? (target.value as Node | null)?.range?.[0];
}

/**
 * The YAML path of a reported node or pair (`/jobs/build/steps/2/run`; a map key gets its pair's path plus `#key`,
 * so a finding on the key `build` and one on its value differ). Descends only into collections whose source range
 * contains the target, so the cost is the depth times the width of the path, not the size of the document.
 * '' when the target is not part of the document.
 */
function yamlPathOf(file: WorkflowFile, target: Node | Pair): string {
  const offset = startOf(target);
  if (offset === undefined) return '';
  const contains = (node: unknown): boolean => {
    const range = (node as Node | null)?.range;
    return range !== undefined && range !== null && range[0] <= offset && offset <= range[2];
  };
  const search = (node: unknown, path: string): string | undefined => {
    if (node === target) return path;
    if (isMap(node)) {
      for (const [index, pair] of node.items.entries()) {
        const itemPath = `${path}/${pathSegment(isScalar(pair.key) ? String(pair.key.value) : `?${index}`)}`;
        if (pair === target) return itemPath;
        if (pair.key === target) return `${itemPath}#key`;
        const found = contains(pair.value) ? search(pair.value, itemPath) : undefined;
        if (found !== undefined) return found;
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) {
        const found = contains(item) ? search(item, `${path}/${index}`) : undefined;
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return search(file.doc.contents, '') ?? '';
}

/** Offset of a 1-based line/column in the file text. */
function offsetOf(file: WorkflowFile, line: number, column: number): number {
  const lineStart = file.lineCounter.lineStarts[line - 1] ?? file.text.length;
  return Math.min(lineStart + column - 1, file.text.length);
}

function normalizedSnippet(file: WorkflowFile, range: SourceRange): string {
  return file.text
    .slice(offsetOf(file, range.line, range.column), offsetOf(file, range.endLine, range.endColumn))
    .replace(/\s+/g, ' ')
    .trim();
}

const FIRST_POSITION: SourceRange = { line: 1, column: 1, endLine: 1, endColumn: 1 };

interface PendingFinding {
  finding: UnfingerprintedFinding;
  /** YAML path of the reported node ('' when the report has none) and the normalized reported text. */
  anchor: string;
  fix: FixPlan | undefined;
}

/** A finding with its fix plan, if it has one. */
interface PlannedFinding {
  finding: Finding;
  fix: FixPlan | undefined;
}

/** The state of one run: rule selection, config lookups and the growing result. */
class AnalysisRun {
  private readonly config: AnalyzerConfig;
  private readonly ignored: (path: string) => boolean;
  private readonly only: ReadonlySet<string> | undefined;
  private readonly rules: readonly Rule[];
  private readonly syntaxRule: Rule | undefined;
  private readonly timings: Record<string, number> | undefined;
  readonly diagnostics: AnalysisDiagnostic[] = [];

  constructor(
    private readonly view: RepositoryView,
    private readonly options: AnalyzeOptions,
  ) {
    this.config = options.config ?? DEFAULT_CONFIG;
    this.ignored = this.config.ignore.length > 0 ? picomatch([...this.config.ignore], { dot: true }) : () => false;
    this.only = options.only ? new Set(options.only) : undefined;
    const categories = new Set(options.categories ?? CATEGORIES);
    const enabled = options.rules.filter(
      (rule) => this.config.rules[rule.id]?.enabled !== false && categories.has(rule.category),
    );
    this.rules = enabled;
    this.syntaxRule = enabled.find((rule) => rule.id === YAML_SYNTAX_RULE_ID);
    this.timings = options.profile ? {} : undefined;
  }

  get ruleTimings(): Record<string, number> | undefined {
    return this.timings;
  }

  /** The files whose findings are reported. */
  analyzedFiles(): WorkflowFile[] {
    return this.view.workflowFiles.filter((file) => !this.ignored(file.path) && (this.only?.has(file.path) ?? true));
  }

  /** Runs the applicable rules on one file and returns its findings, fingerprinted, in deterministic order. */
  analyzeFile(file: WorkflowFile): PlannedFinding[] {
    const rules =
      file.doc.errors.length > 0
        ? this.syntaxRule
          ? [this.syntaxRule]
          : []
        : this.rules.filter((rule) => rule.appliesTo.includes(file.kind));
    const pending: PendingFinding[] = [];
    for (const rule of rules) {
      const report = (ruleReport: RuleReport): void => {
        pending.push(this.toPending(file, rule, ruleReport));
      };
      const started = this.timings ? performance.now() : 0;
      try {
        rule.check({ file, repo: this.view, report });
      } catch (error) {
        if (this.options.ruleErrors === 'throw') throw error;
        this.diagnostics.push({ file: file.path, ruleId: rule.id, message: error instanceof Error ? error.message : String(error) });
      }
      if (this.timings) this.timings[rule.id] = (this.timings[rule.id] ?? 0) + performance.now() - started;
    }
    return fingerprinted(pending);
  }

  private toPending(file: WorkflowFile, rule: Rule, report: RuleReport): PendingFinding {
    const range = report.range ?? (report.node ? rangeOf(file, report.node) : undefined) ?? FIRST_POSITION;
    const nodePath = report.node ? yamlPathOf(file, report.node) : '';
    return {
      finding: {
        ruleId: rule.id,
        category: rule.category,
        severity: this.config.rules[rule.id]?.severity ?? report.severity ?? rule.severity,
        confidence: report.confidence ?? rule.confidence,
        file: file.path,
        line: range.line,
        column: range.column,
        endLine: range.endLine,
        endColumn: range.endColumn,
        message: report.message,
        remediation: report.remediation ?? rule.remediation,
        fixable: report.fix !== undefined,
        ...(report.fix ? { fixSafety: report.fix.safety } : report.unfixable ? { fixNote: report.unfixable } : {}),
      },
      anchor: `${nodePath}\u0000${normalizedSnippet(file, range)}`,
      fix: report.fix,
    };
  }
}

/**
 * Sorts one file's findings and adds fingerprints: sha256 over rule, file, YAML path and normalized snippet, plus
 * an occurrence number when the same rule reports the same snippet at the same path more than once (counted in
 * source order, so it stays stable when unrelated lines move).
 */
function fingerprinted(pending: PendingFinding[]): PlannedFinding[] {
  const seen = new Map<string, number>();
  return [...pending].sort((a, b) => compareFindings(a.finding, b.finding)).map(({ finding, anchor, fix }) => {
    const base = `${finding.ruleId}\u0000${finding.file}\u0000${anchor}`;
    const occurrence = seen.get(base) ?? 0;
    seen.set(base, occurrence + 1);
    const fingerprint = createHash('sha256').update(occurrence === 0 ? base : `${base}\u0000${occurrence}`).digest('hex');
    return { finding: { ...finding, fingerprint }, fix };
  });
}

/**
 * Runs every enabled rule on the repository's CI files. Synchronous: rules read only the view, and the schema rule
 * loads its data synchronously.
 */
export function analyzeRepository(view: RepositoryView, options: AnalyzeOptions): AnalysisResult {
  const run = new AnalysisRun(view, options);
  const findings: Finding[] = [];
  const files: FileScore[] = [];
  const fileSeverities: Severity[][] = [];
  let suppressedCount = 0;
  let baselinedCount = 0;
  const fixPlans = new Map<string, FixPlan>();
  for (const file of run.analyzedFiles()) {
    const suppressions = parseSuppressions(file.text);
    const kept = run.analyzeFile(file).filter(({ finding }) => {
      if (isSuppressed(suppressions, finding.ruleId, finding.line)) {
        suppressedCount += 1;
        return false;
      }
      if (options.baseline?.has(finding.fingerprint)) {
        baselinedCount += 1;
        return false;
      }
      return options.minSeverity === undefined || atLeast(finding.severity, options.minSeverity);
    });
    const severities = kept.map(({ finding }) => finding.severity);
    fileSeverities.push(severities);
    files.push({ path: file.path, score: fileScore(severities) });
    for (const { finding, fix } of kept) {
      findings.push(finding);
      if (fix && options.withFixPlans) fixPlans.set(finding.fingerprint, fix);
    }
  }
  return {
    findings: findings.sort(compareFindings),
    files,
    score: repositoryScore(fileSeverities),
    diagnostics: run.diagnostics,
    suppressed: suppressedCount,
    baselined: baselinedCount,
    ...(run.ruleTimings ? { ruleTimings: run.ruleTimings } : {}),
    ...(options.withFixPlans ? { fixPlans } : {}),
  };
}
