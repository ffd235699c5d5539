/**
 * When an agent policy runs: a cron expression (five fields, minute hour day-of-month month day-of-week, UTC, or a
 * macro such as `@daily`) or an interval such as `6h`, `30m` or `1d12h`. Both are checked here, field by field,
 * so a typo is refused with a sentence instead of failing later inside Temporal.
 */
import { z } from 'zod';
import '../util/validation-messages';

const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface CronField {
  name: string;
  min: number;
  max: number;
  /** Names allowed for values (jan..dec, sun..sat), numbered from `min`. */
  names?: readonly string[];
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 6, names: DAYS },
];

function cronValue(text: string, field: CronField): number | undefined {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + field.min;
  return /^\d{1,2}$/.test(text) ? Number(text) : undefined;
}

/** Why one comma-separated element of a cron field is wrong: `*`, `a`, `a-b`, each optionally `/step`. */
function cronElementProblem(element: string, field: CronField): string | undefined {
  const [range = '', step, ...extra] = element.split('/');
  const where = `the ${field.name} field`;
  if (extra.length > 0 || (step !== undefined && !/^[1-9]\d{0,1}$/.test(step))) return `${where} has "${element}", whose step must be one number from 1 to 99`;
  if (range === '*') return undefined;
  const bounds = range.split('-');
  if (bounds.length > 2) return `${where} has "${element}", which is not a value or a range a-b`;
  const values = bounds.map((bound) => cronValue(bound, field));
  const outside = values.findIndex((value) => value === undefined || value < field.min || value > field.max);
  if (outside >= 0) return `${where} has "${bounds[outside]}", which is not a value from ${field.min} to ${field.max}${field.names ? ` (or ${field.names[0]}-${field.names.at(-1)})` : ''}`;
  const [from = 0, to = from] = values as number[];
  if (to < from) return `${where} has the range "${range}", which runs backwards`;
  return undefined;
}

/** Why `expression` is not a cron expression this service accepts, or undefined when it is one. */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) return MACROS.includes(trimmed) ? undefined : `"${trimmed}" is not a cron macro; use one of ${MACROS.join(', ')}`;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== CRON_FIELDS.length) {
    return `has ${fields.length} field(s); a cron expression has five: minute hour day-of-month month day-of-week (UTC), e.g. "0 3 * * mon"`;
  }
  for (const [index, text] of fields.entries()) {
    const field = CRON_FIELDS[index] as CronField;
    for (const element of text.split(',')) {
      const problem = cronElementProblem(element, field);
      if (problem) return problem;
    }
  }
  return undefined;
}

const UNIT_SECONDS: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1 };
const MIN_INTERVAL_SECONDS = 60;
const MAX_INTERVAL_SECONDS = 366 * 86_400;

/** `6h`, `90m`, `1d12h` in seconds, or undefined when the text is no such duration. */
export function intervalSeconds(text: string): number | undefined {
  if (!/^(\d{1,6}[dhms])+$/.test(text)) return undefined;
  return [...text.matchAll(/(\d+)([dhms])/g)].reduce((total, [, count, unit]) => total + Number(count) * (UNIT_SECONDS[unit ?? 's'] ?? 1), 0);
}

export const scheduleSpecSchema = z
  .object({
    cron: z
      .string()
      .trim()
      .max(200)
      .superRefine((cron, context) => {
        const problem = cronProblem(cron);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    interval: z
      .string()
      .trim()
      .superRefine((interval, context) => {
        const seconds = intervalSeconds(interval);
        if (seconds === undefined) context.addIssue({ code: 'custom', message: 'must be a duration such as "6h", "30m" or "1d12h" (units d, h, m, s)' });
        else if (seconds < MIN_INTERVAL_SECONDS || seconds > MAX_INTERVAL_SECONDS) context.addIssue({ code: 'custom', message: 'must be at least 1 minute and at most 366 days' });
      })
      .optional(),
  })
  .strict()
  .refine((schedule) => (schedule.cron === undefined) !== (schedule.interval === undefined), {
    message: 'must give either cron (e.g. "0 3 * * mon") or interval (e.g. "6h"), not both and not neither',
  });

export type ScheduleSpec = z.infer<typeof scheduleSpecSchema>;
