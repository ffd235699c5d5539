/**
 * How a patch rolls out (waves and health watching), validated with zod: the `rollout` of POST /patches and the
 * rollout defaults of agent policies share it, so both refuse and default the same way.
 */
import { z } from 'zod';
import { DEFAULT_ERROR_THRESHOLD } from '../domain/types';
import '../util/validation-messages';

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
export const rolloutSchema = z
  .object({
    waves: wavesSchema.default([{ percent: 10 }, { percent: 50 }, { percent: 100 }]),
    health: healthSettingsSchema.prefault({}),
    allowUnmonitored: z.boolean().default(false),
    parallelism: z.number().int().min(1).max(16).default(4),
  })
  .strict()
  .prefault({});
