/** [first minute seen, last minute seen, trusted (1) or not yet (0)]. */
export type Sighting = [number, number, number];

/**
 * What one key's normal looks like, kept between invocations and persisted as one bounded item
 * (every map is capped; networks are 12-hex HMAC pseudonyms, never addresses).
 */
export interface KeyProfile {
  v: 2;
  /** Epoch minute of the first and last request seen. */
  first: number;
  last: number;
  total: number;
  /** Country of the key's first request: "foreign" during learning means "not this". */
  home?: string;
  /** Epoch day `today`, `todayNets` and `todayHour*` describe. */
  day: number;
  /** Full days folded into `peaks` (0: the key is still in its first day). */
  days: number;
  /** Per hour of day (UTC): the largest demand (requests a minute, retries excluded) of past days. */
  peaks: number[];
  /** The same for the day in progress; folded into `peaks` at midnight. */
  today: number[];
  /** Largest distinct /24s and providers in one hour, and /24s in one day, of past days. */
  hourNets: number;
  hourProviders: number;
  dayNets: number;
  todayHourNets: number;
  todayHourProviders: number;
  todayNets: number;
  nets: Record<string, [number, number]>;
  providers: Record<string, Sighting>;
  countries: Record<string, Sighting>;
  families: Record<string, Sighting>;
  /** The last country the key was used from and when (impossible travel). */
  lastCountry?: [string, number];
}

export const HOURS = 24;

export function emptyProfile(minute: number): KeyProfile {
  return {
    v: 2,
    first: minute,
    last: minute,
    total: 0,
    day: Math.floor(minute / 1_440),
    days: 0,
    peaks: new Array<number>(HOURS).fill(0),
    today: new Array<number>(HOURS).fill(0),
    hourNets: 0,
    hourProviders: 0,
    dayNets: 0,
    todayHourNets: 0,
    todayHourProviders: 0,
    todayNets: 0,
    nets: {},
    providers: {},
    countries: {},
    families: {},
  };
}

/** Folds the finished day into the history: peaks decay so a key's normal can shrink. */
export function rollDay(profile: KeyProfile, day: number, decay: number): void {
  if (day <= profile.day) return;
  const idle = day - profile.day;
  const factor = decay ** idle;
  for (let h = 0; h < HOURS; h++) {
    // One decimal is plenty for a requests-a-minute peak and keeps the item short.
    profile.peaks[h] =
      Math.round(Math.max((profile.peaks[h] ?? 0) * factor, profile.today[h] ?? 0) * 10) / 10;
    profile.today[h] = 0;
  }
  const keep = (past: number, today: number) => Math.round(Math.max(past * factor, today) * 10) / 10;
  profile.hourNets = keep(profile.hourNets, profile.todayHourNets);
  profile.hourProviders = keep(profile.hourProviders, profile.todayHourProviders);
  profile.dayNets = keep(profile.dayNets, profile.todayNets);
  profile.todayHourNets = 0;
  profile.todayHourProviders = 0;
  profile.todayNets = 0;
  profile.days += 1;
  profile.day = day;
}

/**
 * Keeps the `cap` most recently seen entries, trusted ones first, once the map has grown half as
 * large again (amortised: called every key-minute, it sorts rarely).
 */
export function capSightings<T extends [number, number] | Sighting>(
  map: Record<string, T>,
  cap: number,
): Record<string, T> {
  let size = 0;
  for (const _ in map) if (++size > cap * 1.5) break;
  if (size <= cap * 1.5) return map;
  const entries = Object.entries(map);
  entries.sort((a, b) => (b[1][2] ?? 1) - (a[1][2] ?? 1) || b[1][1] - a[1][1]);
  return Object.fromEntries(entries.slice(0, cap));
}
