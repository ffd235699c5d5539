/**
 * Test harness for single rules: parses YAML text as one file of a repository and runs one rule on it.
 */
import type { Severity } from '../../src/domain/types';
import { parseWorkflowFile, workflowFileKind } from '../../src/analysis/parse';
import { analyzeRepository } from '../../src/analysis/engine';
import type { RepositoryView, Rule, WorkflowFile } from '../../src/analysis/rule';

export interface ReportedFinding {
  ruleId: string;
  severity: Severity;
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface RunRuleOptions {
  /** Repository-relative path of the file under test (default `.github/workflows/ci.yml`). */
  path?: string;
  /** Other CI files of the repository, by path. */
  otherFiles?: Record<string, string>;
  /** Other repository files that exist (lockfiles, scripts), by path. */
  existingFiles?: string[];
  firstPartyOwners?: string[];
}

/**
 * Runs `rule` through the real engine (positions, suppression comments, ordering) on one file; other files of the
 * repository are visible to the rule but not analyzed. A rule that throws fails the test.
 */
export function runRule(rule: Rule, yamlText: string, options: RunRuleOptions = {}): ReportedFinding[] {
  const path = options.path ?? '.github/workflows/ci.yml';
  const parse = (filePath: string, text: string): WorkflowFile =>
    parseWorkflowFile(filePath, text, workflowFileKind(filePath) ?? 'workflow');
  const file = parse(path, yamlText);
  const others = Object.entries(options.otherFiles ?? {}).map(([p, t]) => parse(p, t));
  const existing = new Set([...(options.existingFiles ?? []), path, ...others.map((f) => f.path)]);
  const repo: RepositoryView = {
    workflowFiles: [file, ...others],
    fileExists: (p) => existing.has(p),
    firstPartyOwners: options.firstPartyOwners ?? ['actions', 'github'],
  };
  const result = analyzeRepository(repo, { rules: [rule], only: [path], ruleErrors: 'throw' });
  return result.findings.map(({ ruleId, severity, message, line, column, endLine, endColumn }) => ({
    ruleId,
    severity,
    message,
    line,
    column,
    endLine,
    endColumn,
  }));
}
