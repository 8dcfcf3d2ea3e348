import type { Anomaly } from "./anomaly.js";
import type { KeyBaseline } from "./key-baseline.js";
import type { KeyLeakStatus } from "./use-after-leak.js";

export interface StoredBaseline {
  baseline: KeyBaseline;
  version: number;
}

/** Detector state between batches: one baseline item per key, one item per client stuffing window. */
export interface TrafficStateStore {
  loadBaselines(keyIds: readonly string[]): Promise<Map<string, StoredBaseline>>;
  /** Writes only if the stored version is still `expectedVersion` (undefined: not stored yet). */
  saveBaseline(keyId: string, baseline: KeyBaseline, expectedVersion: number | undefined): Promise<boolean>;
  /**
   * Adds refused keyIds to a client network's window (`clientId` is the network's HMAC) and
   * says how many distinct keys the window held before and after.
   */
  addRefusedKeys(
    clientId: string,
    windowStart: number,
    keyIds: readonly string[],
  ): Promise<{ before: number; after: number }>;
}

/** Where anomalies are kept: by the key (or client network pseudonym) and by time. */
export interface AnomalyStore {
  save(anomalies: readonly { anomaly: Anomaly; subject: string }[]): Promise<void>;
}

/** One alert per subject + anomaly type per hour; repeats in between are counted, not sent. */
export interface AlertGate {
  /** Counts the repeat; says whether to alert and how many repeats were held back since the last alert. */
  admit(subject: string, anomaly: Anomaly): Promise<{ alert: boolean; suppressedRepeats: number }>;
  /** Marks the hour as alerted once the alert is out (a failed publish is retried with the batch). */
  alerted(subject: string, anomaly: Anomaly): Promise<void>;
}

export interface AnomalyAlert {
  kind: "anomaly";
  anomaly: Anomaly;
  /** Anomalies of the same key (or client) and type held back since the previous alert. */
  suppressedRepeats: number;
}

/** Publishes to the security team (SNS on AWS, outbox/alerts.jsonl locally). */
export interface AnomalyAlertPublisher {
  publishAnomaly(alert: AnomalyAlert): Promise<void>;
}

/** Registry status of the keyIds a batch mentions; keys not in the registry are absent. */
export type KeyStatusLookup = (keyIds: readonly string[]) => Promise<Map<string, KeyLeakStatus>>;
