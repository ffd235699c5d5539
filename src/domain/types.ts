/**
 * Domain types shared by the analyzer, the patch lifecycle, the store and the API.
 * Declared once here and imported everywhere; zod schemas at the boundaries derive from these values.
 */
import type { MergeMethod } from '../forges/forge';
import type { HealthCheck } from '../health/schemas';
import type { HealthSample } from '../health/types';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CATEGORIES = ['security', 'performance', 'efficiency', 'compatibility', 'quality'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CONFIDENCES = ['high', 'medium', 'low'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/**
 * How far an automatic fix can be trusted: `safe` keeps what the workflow does (only the flagged problem goes),
 * `unsafe` may change behaviour (a timeout that cuts a slow job, a newer action version) and needs a reader.
 */
export const FIX_SAFETIES = ['safe', 'unsafe'] as const;
export type FixSafety = (typeof FIX_SAFETIES)[number];

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
  /** How trustworthy the fix is; present exactly when `fixable` is true. */
  fixSafety?: FixSafety;
  /** Why this finding has no automatic fix, when the rule could say (e.g. the permissions a step needs are unknown). */
  fixNote?: string;
  /** Stable across unrelated edits: rule + file + YAML path + normalized snippet. */
  fingerprint: string;
}

export const ROLES = ['viewer', 'operator', 'guardian', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated caller as the API and the audit trail see it. */
export interface Actor {
  subject: string;
  roles: Role[];
  /** The token's `groups` claim, when it has one: what distinct-group quorums count. */
  groups?: string[];
}

/** How a target's commands (verify command, command health checks) run inside the sandbox. */
export interface SandboxSettings {
  /** Whether the commands may reach the network; off unless an admin opts the target in. */
  network: boolean;
  /**
   * The only variables the commands get, besides PATH, HOME, LANG and TMPDIR set by the sandbox (which these may
   * replace). Values of 4 or more characters are redacted from stage logs and health check details.
   */
  env: Record<string, string>;
}

export const DEFAULT_SANDBOX_SETTINGS: SandboxSettings = { network: false, env: {} };

/** Where a target's repository lives on a forge, for pull-request delivery and `ci-status` health checks. */
export interface ForgeLink {
  /** The name of a forge credential (FORGE_CREDENTIALS_FILE); it decides the server. */
  credential: string;
  /** `owner/name` on that forge. */
  repository: string;
}

export const DEFAULT_CHECKS_TIMEOUT_SECONDS = 1800;
export const DEFAULT_PULL_REQUEST_LABELS = ['workflow-patch-agent'];

/** Delivery through a pull request per target and wave, merged once its checks pass (the quorum is met before any wave). */
export interface PullRequestDelivery {
  mode: 'pull-request';
  mergeMethod: MergeMethod;
  labels: string[];
  /** What must pass on the pull request's head commit before the merge. */
  requiredChecks: string[] | 'all-required';
  checksTimeoutSeconds: number;
  /** Also post an approving review as the bot before merging (some branch protections require one). */
  approve: boolean;
  /** How a merged patch is undone: a revert pull request, merged; or the revert pushed to the branch directly. */
  revert: 'pull-request' | 'push';
}

/** `push`: the patch commit is pushed to the target branch (targets without a delivery field too). */
export type Delivery = { mode: 'push' } | PullRequestDelivery;

/** A repository the service analyzes and deploys patches to. */
export interface Target {
  id: string;
  /** `org/repo`, unique. */
  name: string;
  /** A git URL or a local path. */
  repoUrl: string;
  branch: string;
  healthChecks: HealthCheck[];
  /** argv of the target's own verification, run without a shell in a sandboxed copy of a checkout. */
  verifyCommand: string[] | null;
  sandbox: SandboxSettings;
  /**
   * Whether the workflow-run test stage runs the target's CI jobs before and after a patch. Absent means on:
   * targets snapshotted into running workflows before the setting existed have no such field.
   */
  workflowRun?: boolean;
  /** The event whose jobs the workflow-run stage runs; absent means `push`. */
  workflowRunEvent?: string;
  /** Whether jobs that call reusable workflows run them (act runs the called jobs); absent means on. */
  workflowRunCalledWorkflows?: boolean;
  /**
   * Kubernetes-style labels (`team: payments`) that agent policies select targets by. Absent in target snapshots
   * taken before labels existed.
   */
  labels?: Record<string, string>;
  /** Absent in snapshots taken before forges existed, and for targets not on a forge. */
  forge?: ForgeLink;
  /** Absent means push. */
  delivery?: Delivery;
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

// ---------------------------------------------------------------------------------------------------------------
// Patches and their lifecycle
// ---------------------------------------------------------------------------------------------------------------

export const PATCH_STATUSES = [
  'pending', 'testing', 'test_failed', 'awaiting_approval', 'rejected', 'expired', 'deploying', 'paused', 'deployed',
  'rolling_back', 'rolled_back', 'failed', 'cancelled',
] as const;
export type PatchStatus = (typeof PATCH_STATUSES)[number];

/** States a patch lifecycle never leaves. */
export const TERMINAL_PATCH_STATUSES: readonly PatchStatus[] = ['test_failed', 'rejected', 'expired', 'deployed', 'rolled_back', 'failed', 'cancelled'];

export const PATCH_TYPES = ['bug_fix', 'performance', 'security', 'feature', 'refactor'] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

/** Consecutive samples that could not be taken before a rollout gives up (Argo Rollouts' consecutiveErrorLimit). */
export const DEFAULT_ERROR_THRESHOLD = 4;

export interface HealthSettings {
  /** Seconds between two rounds of health checks. */
  intervalSeconds: number;
  /** How long each wave is watched before the next one starts. */
  windowSeconds: number;
  /** Consecutive failures of one check on one target that trigger the rollback. */
  failureThreshold: number;
  /** Consecutive samples of one check that could not be taken (not failures) that trigger the rollback; default 4. */
  errorThreshold?: number;
}

export interface RolloutSpec {
  /** Cumulative percentages of the targets; the first wave (the canary) always holds at least one target. */
  waves: Array<{ percent: number }>;
  health: HealthSettings;
  /** Allows targets with neither health checks nor a verify command. */
  allowUnmonitored: boolean;
  /** Targets deployed at the same time within a wave. */
  parallelism: number;
  /**
   * Targets reverted at the same time within a wave when the patch is rolled back (a new revert starts as soon as
   * one ends); absent on patches created before it existed, which use DEFAULT_REVERT_PARALLELISM.
   */
  revertParallelism?: number;
}

/**
 * Reverts in flight per wave unless the rollout says otherwise: a rollback is undone in seconds, not at the pace of
 * the deploy, and a worker's 100 activity slots leave room for the bookkeeping beside it.
 */
export const DEFAULT_REVERT_PARALLELISM = 16;
/** The most reverts in flight per wave a rollout may ask for: each holds a worker activity slot and a git clone. */
export const MAX_REVERT_PARALLELISM = 64;

/** How long a patch waits for its approvals unless the request says otherwise: 3 days. */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 259_200;

export interface ApprovalSpec {
  /**
   * Distinct guardians, other than the author, who must approve: the larger of the requested quorum and the one
   * the patch's own changes call for (src/patching/risk-quorum.ts).
   */
  quorum: number;
  timeoutSeconds: number;
  /** The request's `approval.quorum`. This and `reasons` are absent on patches created before quorums were computed. */
  requestedQuorum?: number;
  /** Why the quorum is what it is, for people. */
  reasons?: string[];
  /** Only approvals of Guardians from groups not yet represented count (src/workflows/approval-quorum.ts). */
  distinctGroups?: boolean;
}

/**
 * An agent policy's floor under the approvals a patch needs: `minimumSafe` when every fix is safe, `minimumRisky`
 * otherwise; `distinctGroups` asks for Guardians of distinct groups.
 */
export interface ApprovalMinimums {
  minimumSafe?: number;
  minimumRisky?: number;
  distinctGroups?: boolean;
}

/**
 * Where the lifecycle's activities get the diff: the text itself (runs started before diffs were passed by
 * reference), or its SHA-256, by which they read it from the read model (stored once, with the patch).
 */
export type DiffSource = { diff: string } | { diffSha256: string };

/** Which findings a patch generated from analyses fixes; regenerating it on a moved branch asks the same. */
export interface FindingSelection {
  /** Only findings of these rules (all fixable ones when absent). */
  ruleIds?: string[];
  /** Only findings with these fingerprints. */
  fingerprints?: string[];
  /** Also apply fixes that may change behaviour (e.g. a job timeout that could cut a long job short). */
  unsafe: boolean;
}

/** A finding a generated patch resolves on one target, with the fix that resolves it. */
export interface ResolvedFinding {
  ruleId: string;
  fingerprint: string;
  category: Category;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  message: string;
  /** The fix's title. */
  fix: string;
  safety: 'safe' | 'unsafe';
  /** The rule's documentation: `docs/rules.md#<rule-id>`. */
  docs: string;
}

/** Everything the lifecycle workflow needs, fixed when the patch is created (targets are snapshotted). */
export interface PatchSpec {
  id: string;
  title: string;
  type: PatchType;
  description: string | null;
  author: string;
  /** Unified diff, paths relative to the repository root (`a/...`, `b/...`). */
  diff: string;
  targets: Target[];
  rollout: RolloutSpec;
  approval: ApprovalSpec;
  /** Times in which no wave is deployed (health rounds and rollbacks go on); absent or empty: none. */
  quietWindows?: QuietWindow[];
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A weekly time in UTC in which nothing is deployed: from `start` on each of `days` until `end` ("HH:MM", end
 * "24:00" is midnight; an end at or before the start runs into the next day).
 */
export interface QuietWindow {
  days: Weekday[];
  start: string;
  end: string;
}

/** The stages that check the patched tree itself (src/patching/stages.ts). */
export const TREE_STAGES = ['isolated', 'integration', 'safety', 'regression'] as const;
export type TreeStage = (typeof TREE_STAGES)[number];
/** Every test stage in order: the tree stages, then the target's own CI jobs run without and with the patch. */
export const TEST_STAGES = [...TREE_STAGES, 'workflow-run'] as const;
export type TestStage = (typeof TEST_STAGES)[number];

/** A stage's outcome as the lifecycle keeps it; the log stays in the read model. */
export type StageVerdict = Omit<StageResult, 'log'>;

export interface StageResult {
  stage: TestStage;
  targetId: string;
  passed: boolean;
  /** One line for people. */
  summary: string;
  /** Longer output (command output, violations), bounded. */
  log: string;
}

export interface ApprovalRecord {
  guardian: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
  at: string;
  /** The Guardian's groups from their token, when it had any. */
  groups?: string[];
}

/** `declined`: a person closed the patch's pull request, or pushed to its branch; the target is left as they chose. */
export const DEPLOYMENT_STATUSES = ['pending', 'deploying', 'deployed', 'failed', 'reverting', 'reverted', 'revert_failed', 'skipped', 'declined'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export interface TargetDeployment {
  targetId: string;
  targetName: string;
  /** 1-based wave number. */
  wave: number;
  status: DeploymentStatus;
  deployedCommit: string | null;
  previousCommit: string | null;
  revertCommit: string | null;
  error: string | null;
  /** Newest last; bounded to the last few rounds. */
  lastSamples: HealthSample[];
  /** The pull request that delivered (or proposed) the patch, for targets delivered by pull request. */
  pullRequest?: PullRequestLink;
}

export interface PullRequestLink {
  number: number;
  url: string;
}

/** The full state of a patch lifecycle, as the `status` query returns it. */
export interface PatchState {
  patchId: string;
  status: PatchStatus;
  statusReason: string | null;
  /** What the workflow is doing now, in words (also shown as the run's current details in the Web UI). */
  currentStep: string;
  tests: StageVerdict[];
  approvals: ApprovalRecord[];
  /** Target ids per wave, in rollout order. */
  waves: string[][];
  /** 1-based; 0 before the rollout starts. */
  currentWave: number;
  paused: boolean;
  deployments: TargetDeployment[];
  /** Read-model writes that failed even after their retries (newest last, bounded); the reconciler repairs them. */
  bookkeepingFailures?: string[];
  /** How many times the run handed over to a new run (continue-as-new) to keep its history bounded. */
  handOvers?: number;
}
