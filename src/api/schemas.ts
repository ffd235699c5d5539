/**
 * Request bodies and parameters of the API, validated with zod at the boundary. Characters that cannot be stored
 * at all are refused earlier, for every field at once (validation.ts); these schemas say which fields are one line.
 */
import { z } from 'zod';
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS, PATCH_STATUSES, PATCH_TYPES } from '../domain/types';
import { type RepoUrlPolicy, repoUrlProblem } from '../git/repo-url';
import { commitSubjectProblem, isValidBranchName } from '../git/validate';
import { RUNNABLE_EVENTS } from '../ci-run/events';
import { DEFAULT_CHECKS_TIMEOUT_SECONDS, DEFAULT_PULL_REQUEST_LABELS } from '../domain/types';
import { CREDENTIAL_NAME_PATTERN } from '../forges/credentials';
import { MERGE_METHODS } from '../forges/forge';
import { healthCheckSchema, wantedChecksSchema } from '../health/schemas';
import { quietWindowsSchema, rolloutSchema } from '../patching/rollout-schema';
import { allRules } from '../analysis/rules';
import { labelsSchema, targetSelectorSchema } from '../agent/target-selection';
import type { PatchListPosition } from '../store/patches';
import { bidiControlProblem, multiLine, oneLine } from './validation';

export const uuidParam = z.object({ id: z.uuid({ message: 'must be a UUID' }) });

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What a single argv element or variable value may hold: one argument, any text but NUL and control characters. */
const MAX_ARGUMENT_CHARS = 8192;

const sandboxSchema = z
  .object({
    network: z.boolean().default(false),
    env: z
      .record(z.string().regex(ENV_NAME, 'must be a variable name (letters, digits and _, not starting with a digit)').max(128), z.string().max(MAX_ARGUMENT_CHARS))
      .refine((env) => Object.keys(env).length <= 64, { message: 'may declare at most 64 variables' })
      .default({}),
  })
  .strict();

const forgeLinkSchema = z
  .object({
    credential: z.string().regex(CREDENTIAL_NAME_PATTERN, 'must name a forge credential configured on the server (letters, digits, ".", "_" and "-")'),
    repository: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must look like owner/name (letters, digits, ".", "_" and "-")')
      .refine((name) => name.split('/').every((part) => part !== '.' && part !== '..'), 'must not use "." or ".." as the owner or the name'),
  })
  .strict();

const MAX_CHECKS_TIMEOUT_SECONDS = 6 * 60 * 60;

const deliverySchema = z
  .discriminatedUnion('mode', [
    z.object({ mode: z.literal('push') }).strict(),
    z
      .object({
        mode: z.literal('pull-request'),
        mergeMethod: z.enum(MERGE_METHODS).default('merge'),
        labels: z
          .array(z.string().regex(/^[^\p{Cc},]{1,50}$/u, 'must be a label name: 1 to 50 characters, no commas, line breaks or control characters'))
          .max(10)
          .default(DEFAULT_PULL_REQUEST_LABELS),
        requiredChecks: wantedChecksSchema,
        checksTimeoutSeconds: z.number().int().min(10).max(MAX_CHECKS_TIMEOUT_SECONDS).default(DEFAULT_CHECKS_TIMEOUT_SECONDS),
        approve: z.boolean().default(false),
        revert: z.enum(['pull-request', 'push']).default('pull-request'),
      })
      .strict(),
  ])
  .default({ mode: 'push' });

/** The target body; the repository URL rules depend on the server (local repositories). */
export function createTargetSchema(repoUrls: RepoUrlPolicy) {
  return z
    .object({
      name: z.string().trim().max(200).regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must look like org/repo (letters, digits, ".", "_" and "-")'),
      repoUrl: oneLine(2048).superRefine((url, context) => {
        const problem = repoUrlProblem(url, repoUrls);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }),
      branch: oneLine(255).refine(isValidBranchName, 'must be a valid git branch name (see git check-ref-format)').default('main'),
      healthChecks: z.array(healthCheckSchema).max(20).default([]),
      verifyCommand: z
        .array(z.string().max(MAX_ARGUMENT_CHARS))
        .min(1)
        .max(64)
        .refine((argv) => argv[0] !== '', 'must name a program first (argv[0] is empty)')
        .optional(),
      sandbox: sandboxSchema.optional(),
      workflowRun: z.boolean().default(true),
      workflowRunEvent: z.enum(RUNNABLE_EVENTS, { error: `must be one of GitHub's workflow events: ${RUNNABLE_EVENTS.join(', ')}` }).default('push'),
      workflowRunCalledWorkflows: z.boolean().default(true),
      labels: labelsSchema.default({}),
      forge: forgeLinkSchema.optional(),
      delivery: deliverySchema,
    })
    .strict()
    .superRefine((target, context) => {
      if (target.forge !== undefined) return;
      if (target.delivery.mode === 'pull-request') context.addIssue({ code: 'custom', path: ['forge'], message: 'is required for pull-request delivery: name the credential and the repository (owner/name) on the forge' });
      const ciStatus = target.healthChecks.findIndex((check) => check.type === 'ci-status');
      if (ciStatus >= 0) context.addIssue({ code: 'custom', path: ['healthChecks', ciStatus], message: 'a ci-status check reads the forge: the target needs `forge`' });
    });
}

/** PUT /targets/:id/labels: the target's labels, replaced as a whole. */
export const targetLabelsSchema = z.object({ labels: labelsSchema }).strict();

/** The most targets one fleet scan analyzes: batched, a scan this size stays far from Temporal's history limits. */
export const MAX_FLEET_SCAN_TARGETS = 10_000;
const scanConcurrencySchema = z.number().int().min(1).max(16).default(4);

export const startAnalysisSchema = z.union([
  z.object({ targetId: z.uuid() }).strict(),
  z
    .object({
      // 10,000 ids are about 390 KB of JSON: within the API's 1 MiB body limit. A refinement rather than .max(), which
      // zod reports inside this union only as "no form matches".
      targetIds: z.array(z.uuid()).min(1).refine((ids) => ids.length <= MAX_FLEET_SCAN_TARGETS, `must have at most ${MAX_FLEET_SCAN_TARGETS} items`),
      concurrency: scanConcurrencySchema,
    })
    .strict(),
  // The whole fleet or part of it without listing ids: selected like an agent policy's targets.
  z.object({ targets: targetSelectorSchema, concurrency: scanConcurrencySchema }).strict(),
], { error: 'must hold one of targetId (a target\'s id), targetIds (a list of target ids) or targets ("all", or an object with nameGlob and/or labels)' });

// ---------------------------------------------------------------------------------------------------------------
// Patches (issue 4)
// ---------------------------------------------------------------------------------------------------------------

const MAX_APPROVAL_TIMEOUT_SECONDS = 30 * 24 * 60 * 60;
// Temporal caps a workflow's input at 2 MB; the diff travels inside the PatchSpec next to the target snapshots.
const MAX_DIFF_CHARS = 512 * 1024;

const approvalSchema = z
  .object({
    quorum: z.number().int().min(1).max(10).default(1),
    timeoutSeconds: z.number().int().min(60).max(MAX_APPROVAL_TIMEOUT_SECONDS).default(DEFAULT_APPROVAL_TIMEOUT_SECONDS),
    // The least the patch needs: its changes may require more (src/patching/risk-quorum.ts).
    distinctGroups: z.boolean().optional(),
  })
  .strict()
  .prefault({});

const MAX_PATCH_TARGETS = 500;
const MAX_RULE_ID_CHARS = 100;
const MAX_FINGERPRINTS = 10_000;
const RULE_IDS: ReadonlySet<string> = new Set(allRules.map((rule) => rule.id));

function distinct(items: readonly string[]): boolean {
  return new Set(items).size === items.length;
}

/** Which findings of which analyses a generated patch fixes (src/patching/from-findings.ts). */
const fromFindingsSchema = z
  .object({
    analysisIds: z
      .array(z.uuid({ message: 'must be an analysis id (UUID)' }))
      .min(1)
      .max(MAX_PATCH_TARGETS)
      .refine(distinct, { message: 'must not name an analysis twice' }),
    ruleIds: z
      .array(z.string().max(MAX_RULE_ID_CHARS).refine((id) => RULE_IDS.has(id), { message: 'is not a rule of the analyzer (see docs/rules.md)' }))
      .min(1)
      .max(RULE_IDS.size)
      .refine(distinct, { message: 'must not name a rule twice' })
      .optional(),
    fingerprints: z
      .array(z.string().regex(/^[0-9a-f]{64}$/, 'must be a finding fingerprint (64 lowercase hex digits)'))
      .min(1)
      .max(MAX_FINGERPRINTS)
      .refine(distinct, { message: 'must not name a fingerprint twice' })
      .optional(),
    unsafe: z.boolean().default(false),
  })
  .strict();

/**
 * A new patch: a diff for the given targets, or `fromFindings`, whose diffs (one per target), title, type and
 * description are generated from the analyses' findings (title, type and description may still be given).
 */
export const createPatchSchema = z
  .object({
    title: oneLine(200)
      .superRefine((title, context) => {
        const problem = commitSubjectProblem(title);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    type: z.enum(PATCH_TYPES).optional(),
    description: multiLine(10_000).optional(),
    targets: z
      .array(z.uuid())
      .min(1)
      .max(MAX_PATCH_TARGETS)
      .refine(distinct, { message: 'targets must be distinct' })
      .optional(),
    diff: z
      .string()
      .min(1)
      .max(MAX_DIFF_CHARS)
      .superRefine((diff, context) => {
        const problem = bidiControlProblem(diff);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    fromFindings: fromFindingsSchema.optional(),
    rollout: rolloutSchema,
    approval: approvalSchema,
    quietWindows: quietWindowsSchema,
  })
  .strict()
  .transform((body, context) => {
    const { diff, fromFindings, targets, title, type, ...common } = body;
    const refuse = (field: string, message: string): never => {
      context.addIssue({ code: 'custom', path: [field], message, input: body });
      return z.NEVER;
    };
    if (fromFindings !== undefined) {
      if (diff !== undefined) return refuse('diff', 'must not be given together with fromFindings: give a diff, or the findings to generate one from');
      if (targets !== undefined) return refuse('targets', 'must not be given with fromFindings: the targets are those of the analyses');
      return { source: 'findings' as const, fromFindings, title, type, ...common };
    }
    if (diff === undefined) refuse('diff', 'is required, unless fromFindings names the analyses whose findings the patch fixes');
    if (title === undefined) refuse('title', 'is required');
    if (type === undefined) refuse('type', 'is required');
    if (targets === undefined) refuse('targets', 'is required');
    if (diff === undefined || title === undefined || type === undefined || targets === undefined) return z.NEVER;
    return { source: 'diff' as const, diff, title, type, targets, ...common };
  });


/**
 * The patch list's page cursor: opaque to clients (base64url of `<created_at in microseconds>:<id>`), so that the
 * position can change form without breaking them. Anything else is refused at the door with 400.
 */
const PATCH_CURSOR = /^(\d{1,16}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const CURSOR_REFUSAL = 'must be the `next` of an earlier page of this list';

export function encodePatchCursor(position: PatchListPosition): string {
  return Buffer.from(`${position.createdAtMicros}:${position.id}`).toString('base64url');
}

const patchCursor = z
  .string()
  .max(96, CURSOR_REFUSAL)
  .regex(/^[A-Za-z0-9_-]+$/, CURSOR_REFUSAL)
  .transform((cursor, context): PatchListPosition => {
    const match = PATCH_CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
    if (!match?.[1] || !match[2] || !Number.isSafeInteger(Number(match[1]))) {
      context.addIssue({ code: 'custom', message: CURSOR_REFUSAL });
      return z.NEVER;
    }
    return { createdAtMicros: match[1], id: match[2] };
  });

export const listPatchesQuery = z.object({
  status: z.enum(PATCH_STATUSES).optional(),
  target: z.uuid({ message: 'must be a target id (UUID)' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: patchCursor.optional(),
});

const reasonText = multiLine(2000).pipe(z.string().min(1));

export const approvePatchSchema = z.object({ comment: multiLine(2000).optional() }).strict();
export const rejectPatchSchema = z.object({ reason: reasonText }).strict();
export const pausePatchSchema = z.object({ reason: reasonText.optional() }).strict();
export const resumePatchSchema = z.object({}).strict();
export const abortPatchSchema = z.object({ reason: reasonText }).strict();

// ---------------------------------------------------------------------------------------------------------------
// Reports (issue 11)
// ---------------------------------------------------------------------------------------------------------------

/** `?format=`: a report as JSON or Markdown, chosen in the URL (a link in a browser or a chat cannot set Accept). */
export const reportQuery = z
  .object({ format: z.enum(['json', 'md'], { error: 'must be json or md' }).optional() })
  .strict();

/** `?days=`: how far back a score history reaches. */
export const scoreHistoryQuery = z
  .object({
    days: z
      .string()
      .regex(/^\d{1,3}$/, 'must be a whole number of days from 1 to 365')
      .transform(Number)
      .pipe(z.number().min(1, 'must be at least 1 day').max(365, 'must be at most 365 days'))
      .default(90),
  })
  .strict();
