/**
 * When a rollout may deploy next, for weekly UTC quiet windows: inside, outside, across midnight and the week's
 * end, touching windows as one, and a week quiet throughout.
 */
import type { QuietWindow } from '../../src/domain/types';
import { minutesOf, quietUntil } from '../../src/workflows/quiet-windows';

/** 2026-12-05 is a Saturday. */
const at = (iso: string): number => Date.parse(iso);

describe('quietUntil', () => {
  const weekend: QuietWindow = { days: ['sat', 'sun'], start: '00:00', end: '24:00' };
  const nights: QuietWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '06:00' };

  const saturdayNight: QuietWindow = { days: ['sat'], start: '23:00', end: '01:00' };

  test.each<[string, number, QuietWindow[], number | undefined]>([
    ['Saturday noon, in the weekend window, quiet until Monday 00:00', at('2026-12-05T12:00:00Z'), [weekend], at('2026-12-07T00:00:00Z')],
    ['Friday noon, outside every window', at('2026-12-04T12:00:00Z'), [weekend, nights], undefined],
    ['Friday 23:00: the night runs into the weekend, quiet until Monday 00:00', at('2026-12-04T23:00:00Z'), [weekend, nights], at('2026-12-07T00:00:00Z')],
    ['Sunday 23:59 with the nights window too: Monday 00:00 (Sunday has no night window)', at('2026-12-06T23:59:00Z'), [weekend, nights], at('2026-12-07T00:00:00Z')],
    ['Tuesday 03:00, in Monday night window, quiet until 06:00', at('2026-12-08T03:00:00Z'), [nights], at('2026-12-08T06:00:00Z')],
    ['Monday 03:00: Sunday has no night window', at('2026-12-07T03:00:00Z'), [nights], undefined],
    ['the start is inside, the end is not', at('2026-12-08T22:00:00Z'), [nights], at('2026-12-09T06:00:00Z')],
    ['the end is outside', at('2026-12-09T06:00:00Z'), [nights], undefined],
    ['Saturday 23:30 in a window across the week end (sat 23:00 to sun 01:00)', at('2026-12-05T23:30:00Z'), [saturdayNight], at('2026-12-06T01:00:00Z')],
    ['no windows', at('2026-12-05T12:00:00Z'), [], undefined],
  ])('%s', (_name, now, windows, expected) => {
    expect(quietUntil(now, windows)).toBe(expected);
  });

  test('a week quiet throughout has no end', () => {
    const always: QuietWindow = { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], start: '00:00', end: '24:00' };
    expect(quietUntil(at('2026-12-02T10:00:00Z'), [always])).toBe(Number.POSITIVE_INFINITY);
    const splitAcrossTwo: QuietWindow[] = [{ days: ['sun', 'mon', 'tue'], start: '00:00', end: '24:00' }, { days: ['wed', 'thu', 'fri', 'sat'], start: '00:00', end: '24:00' }];
    expect(quietUntil(at('2026-12-02T10:00:00Z'), splitAcrossTwo)).toBe(Number.POSITIVE_INFINITY);
    const oneMinuteFree: QuietWindow[] = [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], start: '00:01', end: '24:00' }];
    expect(quietUntil(at('2026-12-02T10:00:00Z'), oneMinuteFree)).toBe(at('2026-12-03T00:00:00Z'));
  });

  test('times of day are checked', () => {
    expect(minutesOf('24:00')).toBe(1440);
    expect(minutesOf('07:05')).toBe(425);
    for (const bad of ['24:01', '7:05', '25:00', 'noon', '']) expect(() => minutesOf(bad)).toThrow(RangeError);
  });
});
