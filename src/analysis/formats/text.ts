/**
 * Human-readable output: one block per finding (`file:line:col: severity rule-id: message`, the offending source
 * line with a caret underline, the remediation) and a summary per repository. ANSI colors only when asked
 * (the CLI asks when the output stream is a TTY).
 */
import { SEVERITIES, type Finding, type Severity } from '../../domain/types';
import { type AnalysisReport, displayPath, type RepositoryReport } from './report';

const RESET = '\u001b[0m';
const STYLE = {
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  boldRed: '\u001b[1;31m',
} as const;

const SEVERITY_STYLE: Readonly<Record<Severity, keyof typeof STYLE>> = {
  critical: 'boldRed',
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  info: 'dim',
};

/** Longest excerpt line shown; longer lines are cut so a minified line does not flood the terminal. */
const MAX_EXCERPT = 160;

export interface TextOptions {
  color: boolean;
}

function lineOf(text: string | undefined, line: number): string | undefined {
  if (text === undefined) return undefined;
  let start = 0;
  for (let current = 1; current < line; current += 1) {
    const next = text.indexOf('\n', start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '');
}

function excerpt(finding: Finding, source: string | undefined, paint: (style: keyof typeof STYLE, text: string) => string): string[] {
  const lineText = lineOf(source, finding.line);
  if (lineText === undefined) return [];
  const shown = lineText.length > MAX_EXCERPT ? `${lineText.slice(0, MAX_EXCERPT)}…` : lineText;
  const start = Math.min(finding.column - 1, shown.length);
  const end = finding.endLine === finding.line ? Math.min(finding.endColumn - 1, shown.length) : shown.length;
  // Keep tabs in the padding so the carets line up under tab-indented text.
  const padding = shown.slice(0, start).replace(/[^\t]/g, ' ');
  const gutter = String(finding.line).padStart(5);
  return [
    `${paint('dim', `${gutter} |`)} ${shown}`,
    `${paint('dim', `${' '.repeat(gutter.length)} |`)} ${padding}${paint(SEVERITY_STYLE[finding.severity], '^'.repeat(Math.max(1, end - start)))}`,
  ];
}

function summary(repository: RepositoryReport, paint: (style: keyof typeof STYLE, text: string) => string): string {
  const { result } = repository;
  const counts = SEVERITIES.map((severity) => [severity, result.findings.filter((f) => f.severity === severity).length] as const)
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`);
  const hidden = [
    ...(result.suppressed > 0 ? [`${result.suppressed} suppressed`] : []),
    ...(result.baselined > 0 ? [`${result.baselined} in baseline`] : []),
  ];
  const findings = result.findings.length === 1 ? '1 finding' : `${result.findings.length} findings`;
  const files = result.files.length === 1 ? '1 file' : `${result.files.length} files`;
  const countsText = counts.length > 0 ? ` (${counts.join(', ')})` : '';
  const hiddenText = hidden.length > 0 ? `, ${hidden.join(', ')}` : '';
  return `${paint('bold', repository.root)}: ${findings}${countsText} in ${files}${hiddenText}; score ${result.score}/100`;
}

/** ` [fixable]` for a safe fix, ` [fixable: unsafe]` for an unsafe one, '' without a fix. */
function markFix(finding: Finding, paint: (style: keyof typeof STYLE, text: string) => string): string {
  if (!finding.fixable) return '';
  return ` ${paint('cyan', finding.fixSafety === 'unsafe' ? '[fixable: unsafe]' : '[fixable]')}`;
}

/** The closing hint for `wpa fix`, or undefined when nothing can be fixed. */
function fixHint(report: AnalysisReport): string | undefined {
  const findings = report.repositories.flatMap((repository) => repository.result.findings).filter((finding) => finding.fixable);
  const unsafe = findings.filter((finding) => finding.fixSafety === 'unsafe').length;
  const safe = findings.length - unsafe;
  if (findings.length === 0) return undefined;
  const more = unsafe > 0 ? ` (${unsafe} more with --unsafe-fixes)` : '';
  return `${safe} ${safe === 1 ? 'finding' : 'findings'} can be fixed with \`wpa fix\`${more}`;
}

export function formatText(report: AnalysisReport, options: TextOptions): string {
  const paint = (style: keyof typeof STYLE, text: string): string => (options.color ? `${STYLE[style]}${text}${RESET}` : text);
  const lines: string[] = [];
  for (const repository of report.repositories) {
    for (const finding of repository.result.findings) {
      const where = `${displayPath(repository, finding.file)}:${finding.line}:${finding.column}`;
      lines.push(
        `${paint('bold', where)}: ${paint(SEVERITY_STYLE[finding.severity], finding.severity)} ${paint('bold', finding.ruleId)}: ${finding.message}${markFix(finding, paint)}`,
        ...excerpt(finding, repository.sources.get(finding.file), paint),
        `${paint('dim', '  fix:')} ${finding.remediation}`,
        '',
      );
    }
    for (const diagnostic of repository.result.diagnostics) {
      lines.push(`${paint('yellow', 'warning')}: rule ${diagnostic.ruleId} failed on ${displayPath(repository, diagnostic.file)}: ${diagnostic.message}`);
    }
    lines.push(summary(repository, paint));
  }
  const hint = fixHint(report);
  if (hint !== undefined) lines.push(hint);
  return `${lines.join('\n')}\n`;
}
