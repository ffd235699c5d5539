/**
 * SARIF 2.1.0 output for GitHub code scanning: one run, rule metadata in tool.driver.rules (with
 * security-severity for security rules so GitHub ranks the alerts), results with relative artifact URIs and our
 * fingerprint as a partial fingerprint so alerts survive unrelated edits.
 */
import type { Finding, Severity } from '../../domain/types';
import { ruleHelpMarkdown } from '../docs';
import type { Rule } from '../rule';
import { type AnalysisReport, displayPath } from './report';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

type SarifLevel = 'error' | 'warning' | 'note';

const LEVEL: Readonly<Record<Severity, SarifLevel>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub maps security-severity > 9 to critical, >= 7 high, >= 4 medium, else low. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '1.0',
};

/** The partialFingerprints key; versioned so a future change of the fingerprint recipe does not mix with this one. */
const FINGERPRINT_KEY = 'wpaFingerprint/v1';

function ruleName(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());
}

function sarifRule(rule: Rule): Record<string, unknown> {
  const helpText = `${rule.rationale}\n\nRemediation: ${rule.remediation}`;
  return {
    id: rule.id,
    name: ruleName(rule.id),
    shortDescription: { text: rule.description },
    fullDescription: { text: rule.rationale },
    help: { text: helpText, markdown: ruleHelpMarkdown(rule) },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: {
      tags: rule.category === 'security' ? ['security', 'ci', 'github-actions'] : [rule.category, 'ci', 'github-actions'],
      precision: rule.confidence,
      ...(rule.category === 'security' ? { 'security-severity': SECURITY_SEVERITY[rule.severity] } : {}),
    },
  };
}

function sarifResult(finding: Finding, uri: string, ruleIndex: number): Record<string, unknown> {
  // An empty region (end == start) is written as a start position only.
  const hasExtent = finding.endLine > finding.line || (finding.endLine === finding.line && finding.endColumn > finding.column);
  return {
    ruleId: finding.ruleId,
    ...(ruleIndex >= 0 ? { ruleIndex } : {}),
    level: LEVEL[finding.severity],
    message: { text: finding.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri },
          region: {
            startLine: finding.line,
            startColumn: finding.column,
            ...(hasExtent ? { endLine: finding.endLine, endColumn: finding.endColumn } : {}),
          },
        },
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: finding.fingerprint },
    properties: {
      severity: finding.severity,
      confidence: finding.confidence,
      category: finding.category,
      remediation: finding.remediation,
      fixable: finding.fixable,
      ...(finding.fixSafety ? { fixSafety: finding.fixSafety } : {}),
      ...(finding.fixNote ? { fixNote: finding.fixNote } : {}),
    },
  };
}

export function formatSarif(report: AnalysisReport): string {
  const rules = [...report.rules].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  const results = report.repositories.flatMap((repository) =>
    repository.result.findings.map((finding) =>
      sarifResult(finding, encodeURI(displayPath(repository, finding.file)), ruleIndex.get(finding.ruleId) ?? -1),
    ),
  );
  const notifications = report.repositories.flatMap((repository) =>
    repository.result.diagnostics.map((diagnostic) => ({
      level: 'error',
      message: { text: `rule ${diagnostic.ruleId} failed: ${diagnostic.message}` },
      locations: [{ physicalLocation: { artifactLocation: { uri: encodeURI(displayPath(repository, diagnostic.file)) } } }],
      associatedRule: { id: diagnostic.ruleId },
    })),
  );
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: report.tool.name,
            version: report.tool.version,
            semanticVersion: report.tool.version,
            rules: rules.map(sarifRule),
          },
        },
        invocations: [{ executionSuccessful: notifications.length === 0, toolExecutionNotifications: notifications }],
        // Columns come from JavaScript string offsets.
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
