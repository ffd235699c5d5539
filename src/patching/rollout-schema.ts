/**
 * How a patch rolls out (waves and health watching, quiet windows), validated with zod: the `rollout` and
 * `quietWindows` of POST /patches and the defaults of agent policies share them, so both refuse and default the same way.
 */
import { z } from 'zod';
import { DEFAULT_ERROR_THRESHOLD, DEFAULT_REVERT_PARALLELISM, MAX_REVERT_PARALLELISM, WEEKDAYS } from '../domain/types';
import { isTimeOfDay, quietUntil } from '../workflows/quiet-windows';
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
    revertParallelism: z.number().int().min(1).max(MAX_REVERT_PARALLELISM).default(DEFAULT_REVERT_PARALLELISM),
  })
  .strict()
  .prefault({});

const timeOfDay = z.string().refine(isTimeOfDay, 'must be a UTC time of day "HH:MM" from 00:00 to 24:00');

/** A weekly UTC window in which nothing is deployed (src/workflows/quiet-windows.ts). */
const quietWindowSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS, { error: `must be days of the week: ${WEEKDAYS.join(', ')}` })).min(1).max(7).refine((days) => new Set(days).size === days.length, { message: 'must not name a day twice' }),
    start: timeOfDay,
    end: timeOfDay,
  })
  .strict()
  .refine((window) => window.start !== window.end || window.start === '00:00', { message: 'start and end are the same time: the window would last a whole day; say 00:00 to 24:00' });

export const quietWindowsSchema = z
  .array(quietWindowSchema)
  .max(50)
  .default([])
  .refine((windows) => windows.length === 0 || quietUntil(Date.UTC(2026, 0, 4), windows) !== Number.POSITIVE_INFINITY, {
    message: 'the quiet windows cover the whole week: no wave could ever be deployed',
    // Zod runs refinements on arrays whose items failed; times that failed their own check are already reported.
    when: (payload) => payload.issues.length === 0,
  });
