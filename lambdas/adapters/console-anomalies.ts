import { type DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import { AnomalyTypeSchema } from "../domain/anomaly/anomaly.js";
import type { ConsoleAnomalies, DailyAnomalyCount } from "../handlers/console-api.js";

/**
 * Anomaly counts per type per UTC day for the console chart. Reads only the stable anomaly
 * fields (DESIGN.md: `type`, `windowStart`) so it doesn't depend on the table's key layout; the
 * table is bounded by its TTL, and the projection keeps each scanned item small.
 */
export function createConsoleAnomalies(client: DynamoDBDocumentClient, tableName: string): ConsoleAnomalies {
  return {
    async dailyCounts(sinceDay: string): Promise<DailyAnomalyCount[]> {
      const counts = new Map<string, DailyAnomalyCount>();
      const pages = paginateScan(
        { client },
        {
          TableName: tableName,
          ProjectionExpression: "#type, windowStart",
          FilterExpression: "windowStart >= :since",
          ExpressionAttributeNames: { "#type": "type" },
          ExpressionAttributeValues: { ":since": sinceDay },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const type = AnomalyTypeSchema.safeParse(item.type);
          if (!type.success || typeof item.windowStart !== "string") continue;
          const day = item.windowStart.slice(0, 10);
          const key = `${day}|${type.data}`;
          const entry = counts.get(key) ?? { day, type: type.data, count: 0 };
          entry.count += 1;
          counts.set(key, entry);
        }
      }
      return [...counts.values()].sort((a, b) => a.day.localeCompare(b.day) || a.type.localeCompare(b.type));
    },
  };
}
