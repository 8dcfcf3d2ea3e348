/** Anomalies per type per UTC day, for the security console's chart. */
export interface DailyAnomalyCount {
  day: string;
  type: string;
  count: number;
}

/** The console's read port over anomalies; the adapter uses the anomaly repository's byTime query. */
export interface ConsoleAnomalies {
  dailyCounts(sinceDay: string): Promise<DailyAnomalyCount[]>;
}
