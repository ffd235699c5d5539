/**
 * Quiet windows: weekly UTC times in which a rollout deploys nothing. Pure, so the lifecycle workflow can ask
 * deterministically (with the workflow's clock) when it may deploy next.
 */
import { type QuietWindow, WEEKDAYS } from '../domain/types';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const WEEK_MS = 7 * DAY_MS;

/** Whether `time` is a time of day "HH:MM" from 00:00 to 24:00 (the end of the day). */
export function isTimeOfDay(time: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/.test(time);
}

/** Minutes since midnight of "HH:MM" (00:00 to 24:00). */
export function minutesOf(time: string): number {
  if (!isTimeOfDay(time)) throw new RangeError(`${time} is not a time of day between 00:00 and 24:00`);
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/** The window's occurrences as [start, end) in ms from the start of the week (Sunday 00:00 UTC). */
function occurrences(window: QuietWindow): Array<[number, number]> {
  const start = minutesOf(window.start) * MINUTE_MS;
  const endOfDay = minutesOf(window.end) * MINUTE_MS;
  const length = endOfDay > start ? endOfDay - start : endOfDay + DAY_MS - start;
  return window.days.map((day) => {
    const from = WEEKDAYS.indexOf(day) * DAY_MS + start;
    return [from, from + length];
  });
}

/**
 * When the quiet time that `now` falls in ends, or undefined when `now` is not in a quiet window. Windows that
 * touch or overlap count as one quiet time; a week that is quiet throughout has no end (Infinity).
 */
export function quietUntil(now: number, windows: readonly QuietWindow[]): number | undefined {
  const weekStart = now - (((now - Date.UTC(1970, 0, 4)) % WEEK_MS) + WEEK_MS) % WEEK_MS;
  // The previous, this and the next week, so windows that cross the week's end are seen from both sides.
  const spans = windows
    .flatMap(occurrences)
    .flatMap(([from, to]) => [-1, 0, 1].map((week): [number, number] => [weekStart + week * WEEK_MS + from, weekStart + week * WEEK_MS + to]))
    .sort((a, b) => a[0] - b[0]);
  let end: number | undefined;
  for (const [from, to] of spans) {
    if (end === undefined ? from <= now && now < to : from <= end) end = Math.max(end ?? to, to);
  }
  if (end !== undefined && end - now >= WEEK_MS) return Number.POSITIVE_INFINITY;
  return end;
}
