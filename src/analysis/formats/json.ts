/**
 * Machine-readable output. Stable: keys in a fixed order, findings in the engine's deterministic order, no
 * timestamps, so two runs on the same files give byte-identical output.
 */
import type { Finding } from '../../domain/types';
import type { AnalysisReport } from './report';

/** Bumped on any incompatible change of the JSON shape. */
export const JSON_FORMAT_VERSION = 1;

function findingJson(finding: Finding): Record<string, unknown> {
  return {
    ruleId: finding.ruleId,
    category: finding.category,
    severity: finding.severity,
    confidence: finding.confidence,
    file: finding.file,
    line: finding.line,
    column: finding.column,
    endLine: finding.endLine,
    endColumn: finding.endColumn,
    message: finding.message,
    remediation: finding.remediation,
    fixable: finding.fixable,
    ...(finding.fixSafety ? { fixSafety: finding.fixSafety } : {}),
    ...(finding.fixNote ? { fixNote: finding.fixNote } : {}),
    fingerprint: finding.fingerprint,
  };
}

export function formatJson(report: AnalysisReport): string {
  const document = {
    version: JSON_FORMAT_VERSION,
    tool: { name: report.tool.name, version: report.tool.version },
    repositories: report.repositories.map(({ root, result }) => ({
      root,
      score: result.score,
      files: result.files.map(({ path, score }) => ({ path, score })),
      findings: result.findings.map(findingJson),
      suppressed: result.suppressed,
      baselined: result.baselined,
      diagnostics: result.diagnostics.map(({ file, ruleId, message }) => ({ file, ruleId, message })),
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
