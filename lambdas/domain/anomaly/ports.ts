import type { Anomaly } from "./anomaly.js";
import type { KeyProfile } from "./key-profile.js";
import type { KeyLeakStatus } from "./use-after-leak.js";

/** Key profiles between Lambda environments: loaded once per key, written in batches on a schedule. */
export interface ProfileStore {
  loadProfiles(keyIds: readonly string[]): Promise<Map<string, KeyProfile>>;
  saveProfiles(profiles: readonly [string, KeyProfile][]): Promise<void>;
}

/**
 * Where anomaly episodes are kept: by subject (key, network pseudonym, provider, GLOBAL,
 * PLATFORM) and by time. Saving updates the episode's item in place and never touches
 * attributes it does not own (the console's `triage`).
 */
export interface AnomalyStore {
  save(anomalies: readonly { anomaly: Anomaly; subject: string }[]): Promise<void>;
}

export interface AnomalyAlert {
  kind: "anomaly";
  anomaly: Anomaly;
  /** Kept for the alert format: episodes already fold repeats into one alert, so always 0. */
  suppressedRepeats: number;
}

/** Publishes to the security team (SNS on AWS, outbox/alerts.jsonl locally). */
export interface AnomalyAlertPublisher {
  publishAnomaly(alert: AnomalyAlert): Promise<void>;
}

/** Registry status of the keyIds a batch mentions; keys not in the registry are absent. */
export type KeyStatusLookup = (keyIds: readonly string[]) => Promise<Map<string, KeyLeakStatus>>;
