/**
 * Request bodies and parameters of the API, validated with zod at the boundary. Characters that cannot be stored
 * at all are refused earlier, for every field at once (validation.ts); these schemas say which fields are one line.
 */
import { z } from 'zod';
import { DEFAULT_ERROR_THRESHOLD, PATCH_STATUSES, PATCH_TYPES } from '../domain/types';
import { type RepoUrlPolicy, repoUrlProblem } from '../git/repo-url';
import { commitSubjectProblem, isValidBranchName } from '../git/validate';
import { healthCheckSchema } from '../health/schemas';
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
    })
    .strict();
}

export const startAnalysisSchema = z.union([
  z.object({ targetId: z.uuid() }).strict(),
  z.object({ targetIds: z.array(z.uuid()).min(1).max(1000), concurrency: z.number().int().min(1).max(16).default(4) }).strict(),
]);

// ---------------------------------------------------------------------------------------------------------------
// Patches (issue 4)
// ---------------------------------------------------------------------------------------------------------------

const MAX_APPROVAL_TIMEOUT_SECONDS = 30 * 24 * 60 * 60;
// Temporal caps a workflow's input at 2 MB; the diff travels inside the PatchSpec next to the target snapshots.
const MAX_DIFF_CHARS = 512 * 1024;

const wavesSchema = z
  .array(z.object({ percent: z.number().gt(0, 'must be above 0').max(100) }).strict())
  .min(1)
  .max(20)
  .refine((waves) => waves.every((wave, index) => index === 0 || wave.percent > (waves[index - 1]?.percent ?? 0)), {
    message: 'wave percents are cumulative and must be strictly increasing',
  })
  .refine((waves) => waves.at(-1)?.percent === 100, { message: 'the last wave must be at 100 percent' });

const healthSettingsSchema = z
  .object({
    intervalSeconds: z.number().int().min(1).max(3600).default(30),
    windowSeconds: z.number().int().min(1).max(7 * 24 * 60 * 60).default(300),
    failureThreshold: z.number().int().min(1).max(100).default(1),
    errorThreshold: z.number().int().min(1).max(100).default(DEFAULT_ERROR_THRESHOLD),
  })
  .strict()
  .refine((health) => health.windowSeconds >= health.intervalSeconds, {
    message: 'windowSeconds must be at least intervalSeconds',
    path: ['windowSeconds'],
  });

// `prefault({})` (not `default`) so that an omitted object still gets its fields' defaults.
const rolloutSchema = z
  .object({
    waves: wavesSchema.default([{ percent: 10 }, { percent: 50 }, { percent: 100 }]),
    health: healthSettingsSchema.prefault({}),
    allowUnmonitored: z.boolean().default(false),
    parallelism: z.number().int().min(1).max(16).default(4),
  })
  .strict()
  .prefault({});

const approvalSchema = z
  .object({
    quorum: z.number().int().min(1).max(10).default(1),
    timeoutSeconds: z.number().int().min(60).max(MAX_APPROVAL_TIMEOUT_SECONDS).default(259_200),
  })
  .strict()
  .prefault({});

export const createPatchSchema = z
  .object({
    title: oneLine(200).superRefine((title, context) => {
      const problem = commitSubjectProblem(title);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
    type: z.enum(PATCH_TYPES),
    description: multiLine(10_000).optional(),
    targets: z
      .array(z.uuid())
      .min(1)
      .max(500)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'targets must be distinct' }),
    diff: z
      .string()
      .min(1)
      .max(MAX_DIFF_CHARS)
      .superRefine((diff, context) => {
        const problem = bidiControlProblem(diff);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }),
    rollout: rolloutSchema,
    approval: approvalSchema,
  })
  .strict();

export const listPatchesQuery = z.object({
  status: z.enum(PATCH_STATUSES).optional(),
  target: z.uuid({ message: 'must be a target id (UUID)' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const reasonText = multiLine(2000).pipe(z.string().min(1));

export const approvePatchSchema = z.object({ comment: multiLine(2000).optional() }).strict();
export const rejectPatchSchema = z.object({ reason: reasonText }).strict();
export const pausePatchSchema = z.object({ reason: reasonText.optional() }).strict();
export const resumePatchSchema = z.object({}).strict();
export const abortPatchSchema = z.object({ reason: reasonText }).strict();
