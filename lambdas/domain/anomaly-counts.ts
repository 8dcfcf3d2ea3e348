import type { Anomaly, AnomalyType, Severity } from "./anomaly/anomaly.js";

/** Anomalies per type per UTC day, for the security console's chart. */
export interface DailyAnomalyCount {
  day: string;
  type: string;
  count: number;
}

export const ANOMALY_TRIAGE_STATES = ["acknowledged", "dismissed"] as const;
export type AnomalyTriageState = (typeof ANOMALY_TRIAGE_STATES)[number];

/** An analyst's decision on an anomaly, kept on the anomaly item as the `triage` map. */
export interface AnomalyTriage {
  state: AnomalyTriageState;
  by: string;
  at: string;
  reason: string;
}

/** An anomaly as the console lists it: an opaque id (its table key) and the triage, if any. */
export type ConsoleAnomaly = Anomaly & { id: string; triage?: AnomalyTriage };

export interface AnomalyFilter {
  days: number;
  type?: AnomalyType;
  severity?: Severity;
  keyId?: string;
  projectId?: string;
  /** `untriaged`: no decision yet; a triage state: that decision. */
  triage?: "untriaged" | AnomalyTriageState;
  limit: number;
  cursor?: string;
}

export interface AnomalyPage {
  anomalies: ConsoleAnomaly[];
  cursor?: string;
}

/** The console's port over anomalies: counts for the chart, a filterable list, and triage. */
export interface ConsoleAnomalies {
  dailyCounts(sinceDay: string): Promise<DailyAnomalyCount[]>;
  list(filter: AnomalyFilter): Promise<AnomalyPage>;
  forKey(keyId: string, limit: number): Promise<ConsoleAnomaly[]>;
  /** Stores the decision; false when the anomaly no longer exists (expired). */
  triage(id: string, triage: AnomalyTriage): Promise<boolean>;
}
