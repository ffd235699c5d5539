/** Request bodies and parameters of the API, validated with zod at the boundary. */
import { z } from 'zod';
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
