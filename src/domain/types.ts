/**
 * Domain types shared by the analyzer, the patch lifecycle, the store and the API.
 * Declared once here and imported everywhere; zod schemas at the boundaries derive from these values.
 */
import type { HealthCheck } from '../health/schemas';

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

/** A repository the service analyzes and deploys patches to. */
export interface Target {
  id: string;
  /** `org/repo`, unique. */
  name: string;
  /** A git URL or a local path. */
  repoUrl: string;
  branch: string;
  healthChecks: HealthCheck[];
  /** argv of the target's own verification, run without a shell in a checkout. */
  verifyCommand: string[] | null;
  createdBy: string;
  createdAt: string;
}

export const ANALYSIS_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type AnalysisStatus = (typeof ANALYSIS_STATUSES)[number];

/** One analysis of one target at one commit, as the read model stores it. */
export interface Analysis {
  id: string;
  targetId: string;
  fleetScanId: string | null;
  commitSha: string | null;
  status: AnalysisStatus;
  score: number | null;
  /** Findings per severity, files analyzed. */
  summary: AnalysisCounts;
  error: string | null;
  requestedBy: string;
  createdAt: string;
  completedAt: string | null;
}

export interface AnalysisCounts {
  files: number;
  findings: number;
  bySeverity: Record<Severity, number>;
}
