import type { Severity } from "./anomaly.js";
import type { AnomalyThresholds } from "./thresholds.js";

export const DAY_MINUTES = 1_440;

/** Country → epoch day it was last seen for the key. */
export type CountryHistory = Record<string, number>;

export interface KeyMaturity {
  /** Epoch minute of the key's first logged request. */
  firstMinute: number;
  /** Requests logged for the key so far. */
  total: number;
}

/**
 * new_country: countries in `seen` absent from the key's history of the last `historyDays`.
 * Silent while the key is still learning (too young or too few requests): everything is new then.
 */
export function detectNewCountries(
  history: CountryHistory,
  seen: Iterable<string>,
  minute: number,
  maturity: KeyMaturity,
  thresholds: AnomalyThresholds,
): { country: string; severity: Severity }[] {
  const t = thresholds.newCountry;
  const learning = minute - maturity.firstMinute < t.learningMinutes || maturity.total < t.learningRequests;
  if (learning) return [];
  const today = Math.floor(minute / DAY_MINUTES);
  const known = Object.entries(history).filter(([, day]) => today - day <= t.historyDays).length;
  const severity: Severity = known >= t.globalCountries ? "low" : "medium";
  const fresh: { country: string; severity: Severity }[] = [];
  for (const country of seen) {
    const last = history[country];
    if (last === undefined || today - last > t.historyDays) fresh.push({ country, severity });
  }
  return fresh;
}

/** Records `seen` as seen on the minute's day and forgets countries older than the history. */
export function rememberCountries(
  history: CountryHistory,
  seen: Iterable<string>,
  minute: number,
  thresholds: AnomalyThresholds,
): CountryHistory {
  const today = Math.floor(minute / DAY_MINUTES);
  const next: CountryHistory = {};
  for (const [country, day] of Object.entries(history)) {
    if (today - day <= thresholds.newCountry.historyDays) next[country] = day;
  }
  for (const country of seen) next[country] = Math.max(next[country] ?? 0, today);
  return next;
}
