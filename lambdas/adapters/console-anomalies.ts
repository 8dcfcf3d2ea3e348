import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ConsoleAnomalies, DailyAnomalyCount } from "../domain/anomaly-counts.js";
import { createAnomalyRepository } from "./anomaly-repository.js";
import { type Clock, systemClock } from "./clock.js";

/** The chart never needs more than this many anomalies; past it the counts are a lower bound. */
const MAX_ANOMALIES = 50_000;

/** Anomaly counts per type per UTC day for the console chart, from the anomaly repository's byTime query. */
export function createConsoleAnomalies(
  client: DynamoDBDocumentClient,
  tableName: string,
  clock: Clock = systemClock,
): ConsoleAnomalies {
  const repository = createAnomalyRepository(client, tableName, { clock });
  return {
    async dailyCounts(sinceDay: string): Promise<DailyAnomalyCount[]> {
      const anomalies = await repository.listByTime({
        from: new Date(`${sinceDay}T00:00:00.000Z`),
        to: new Date(clock.now().getTime() + 1),
        limit: MAX_ANOMALIES,
      });
      const counts = new Map<string, DailyAnomalyCount>();
      for (const anomaly of anomalies) {
        const day = anomaly.windowStart.slice(0, 10);
        const key = `${day}|${anomaly.type}`;
        const entry = counts.get(key) ?? { day, type: anomaly.type, count: 0 };
        entry.count += 1;
        counts.set(key, entry);
      }
      return [...counts.values()].sort((a, b) => a.day.localeCompare(b.day) || a.type.localeCompare(b.type));
    },
  };
}
