/**
 * Domain types shared by the analyzer, the patch lifecycle, the store and the API.
 * Declared once here and imported everywhere; zod schemas at the boundaries derive from these values.
 */

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CATEGORIES = ['security', 'performance', 'efficiency', 'compatibility', 'quality'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CONFIDENCES = ['high', 'medium', 'low'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** What kind of file a CI workflow definition is: a workflow under .github/workflows or a composite/JS/Docker action. */
export type WorkflowFileKind = 'workflow' | 'action';

/** 1-based line and column, end exclusive of the last character's successor (as editors show it). */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface Finding extends SourceRange {
  ruleId: string;
  category: Category;
  severity: Severity;
  confidence: Confidence;
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  message: string;
  remediation: string;
  fixable: boolean;
  /** Stable across unrelated edits: rule + file + YAML path + normalized snippet. */
  fingerprint: string;
}

export const ROLES = ['viewer', 'operator', 'guardian', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated caller as the API and the audit trail see it. */
export interface Actor {
  subject: string;
  roles: Role[];
}
