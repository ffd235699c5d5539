/**
 * A seeded pseudo-random source (mulberry32) for fault schedules: a failing chaos run is repeated exactly by
 * running it again with the seed it printed.
 */
export interface SeededRandom {
  readonly seed: number;
  /** A number in [0, 1). */
  fraction(): number;
  /** An integer in [min, max], both included. */
  integer(min: number, max: number): number;
  /** A new array with the items in random order. */
  shuffled<T>(items: readonly T[]): T[];
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const fraction = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
  const integer = (min: number, max: number): number => min + Math.floor(fraction() * (max - min + 1));
  return {
    seed,
    fraction,
    integer,
    shuffled(items) {
      const copy = [...items];
      // Fisher–Yates, from the end.
      for (let index = copy.length - 1; index > 0; index -= 1) {
        const other = integer(0, index);
        [copy[index], copy[other]] = [copy[other] as (typeof copy)[number], copy[index] as (typeof copy)[number]];
      }
      return copy;
    },
  };
}

/** The seed of this run: FAULTS_SEED when set (to repeat a run), otherwise `fallback`. */
export function faultSeed(fallback: number): number {
  const configured = process.env.FAULTS_SEED;
  if (configured === undefined || configured === '') return fallback;
  const seed = Number(configured);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`FAULTS_SEED must be a non-negative integer, not "${configured}".`);
  return seed;
}
