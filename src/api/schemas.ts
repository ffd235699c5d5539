/** Request bodies and parameters of the API, validated with zod at the boundary. */
import { z } from 'zod';
import { PATCH_STATUSES, PATCH_TYPES } from '../domain/types';
import { healthCheckSchema } from '../health/schemas';

export const uuidParam = z.object({ id: z.uuid({ message: 'must be a UUID' }) });

export const createTargetSchema = z.object({
  name: z.string().trim().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must look like org/repo'),
  repoUrl: z.string().trim().min(1).max(2048),
  branch: z.string().trim().min(1).max(255).regex(/^[^\s~^:?*[\\]+$/, 'must be a valid git branch name').default('main'),
  healthChecks: z.array(healthCheckSchema).max(20).default([]),
  verifyCommand: z.array(z.string()).min(1).max(64).refine((argv) => argv[0] !== '', 'argv[0] must not be empty').optional(),
}).strict();

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
    title: z.string().trim().min(1).max(200),
    type: z.enum(PATCH_TYPES),
    description: z.string().trim().max(10_000).optional(),
    targets: z
      .array(z.uuid())
      .min(1)
      .max(500)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'targets must be distinct' }),
    diff: z.string().min(1).max(MAX_DIFF_CHARS),
    rollout: rolloutSchema,
    approval: approvalSchema,
  })
  .strict();

export const listPatchesQuery = z.object({
  status: z.enum(PATCH_STATUSES).optional(),
  target: z.uuid({ message: 'must be a target id (UUID)' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const reasonText = z.string().trim().min(1).max(2000);

export const approvePatchSchema = z.object({ comment: z.string().trim().max(2000).optional() }).strict();
export const rejectPatchSchema = z.object({ reason: reasonText }).strict();
export const pausePatchSchema = z.object({ reason: reasonText.optional() }).strict();
export const resumePatchSchema = z.object({}).strict();
export const abortPatchSchema = z.object({ reason: reasonText }).strict();
