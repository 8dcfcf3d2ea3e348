import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { AnomalySchema } from "../domain/anomaly/anomaly.js";
import type {
  AnomalyFilter,
  AnomalyTriage,
  ConsoleAnomalies,
  ConsoleAnomaly,
  DailyAnomalyCount,
} from "../domain/anomaly-counts.js";
import { queryKeyAnomalyItems } from "./anomaly-repository.js";
import { type Clock, systemClock } from "./clock.js";
import { InvalidCursorError } from "./dynamodb-cursor.js";

const DAY_MS = 86_400_000;
/** The chart never needs more than this many anomalies per day; past it the counts are a lower bound. */
const MAX_PER_DAY = 20_000;
/** Items read per query when filters may drop most of them. */
const FILTERED_READ = 300;
const MAX_ROUNDS = 8;

const TriageSchema = z.object({
  state: z.enum(["acknowledged", "dismissed"]),
  by: z.string(),
  at: z.string(),
  reason: z.string(),
});

/** The attributes i15's detector writes (DESIGN.md), picked so its own additions never break the console. */
const FIELDS = Object.keys(AnomalySchema.shape);

function toConsoleAnomaly(item: Record<string, unknown>): ConsoleAnomaly | undefined {
  const picked: Record<string, unknown> = {};
  for (const field of FIELDS) if (item[field] !== undefined) picked[field] = item[field];
  const anomaly = AnomalySchema.safeParse(picked);
  if (!anomaly.success) return undefined;
  const triage = TriageSchema.safeParse(item.triage);
  return {
    ...anomaly.data,
    id: anomalyId(String(item.pk), String(item.sk)),
    ...(triage.success ? { triage: triage.data } : {}),
  };
}

/** The id the console passes around is the item's key; checked on the way back in. */
function anomalyId(pk: string, sk: string): string {
  return Buffer.from(JSON.stringify([pk, sk])).toString("base64url");
}

const IdSchema = z.tuple([z.string().startsWith("ANOMALY#").max(300), z.string().max(300)]);

export function anomalyKey(id: string): { pk: string; sk: string } | undefined {
  try {
    const [pk, sk] = IdSchema.parse(JSON.parse(Buffer.from(id, "base64url").toString("utf8")));
    return { pk, sk };
  } catch {
    return undefined;
  }
}

const CursorSchema = z.object({ d: z.number().int(), k: z.record(z.string(), z.string()).optional() });

const dayOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * The console's reads and triage over the anomalies table (the byTime index, one partition per
 * UTC day). Triage is one `triage` map attribute on the anomaly item; the detector leaves it alone.
 */
export function createConsoleAnomalies(
  client: DynamoDBDocumentClient,
  tableName: string,
  clock: Clock = systemClock,
): ConsoleAnomalies {
  return {
    async dailyCounts(sinceDay: string): Promise<DailyAnomalyCount[]> {
      const counts = new Map<string, DailyAnomalyCount>();
      const first = Math.floor(Date.parse(`${sinceDay}T00:00:00.000Z`) / DAY_MS);
      const last = Math.floor(clock.now().getTime() / DAY_MS);
      await Promise.all(
        Array.from({ length: last - first + 1 }, async (_, i) => {
          const day = dayOf(first + i);
          let start: Record<string, unknown> | undefined;
          let seen = 0;
          do {
            const out: QueryCommandOutput = await client.send(
              new QueryCommand({
                TableName: tableName,
                IndexName: "byTime",
                KeyConditionExpression: "gsi1pk = :day",
                ExpressionAttributeValues: { ":day": `ANOMALY#DAY#${day}` },
                ExpressionAttributeNames: { "#type": "type" },
                ProjectionExpression: "#type",
                ...(start ? { ExclusiveStartKey: start } : {}),
              }),
            );
            for (const item of out.Items ?? []) {
              const type = String(item.type);
              const key = `${day}|${type}`;
              const entry = counts.get(key) ?? { day, type, count: 0 };
              entry.count += 1;
              counts.set(key, entry);
            }
            seen += out.Items?.length ?? 0;
            start = out.LastEvaluatedKey;
          } while (start && seen < MAX_PER_DAY);
        }),
      );
      return [...counts.values()].sort((a, b) => a.day.localeCompare(b.day) || a.type.localeCompare(b.type));
    },

    async list(filter: AnomalyFilter) {
      const today = Math.floor(clock.now().getTime() / DAY_MS);
      const oldest = today - filter.days + 1;
      let position: { d: number; k?: Record<string, string> } = { d: today };
      if (filter.cursor) {
        try {
          position = CursorSchema.parse(JSON.parse(Buffer.from(filter.cursor, "base64url").toString("utf8")));
        } catch (error) {
          throw new InvalidCursorError({ cause: error });
        }
      }
      const conditions: string[] = [];
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      for (const field of ["type", "severity", "keyId", "projectId"] as const) {
        const value = filter[field];
        if (value === undefined) continue;
        conditions.push(`#${field} = :${field}`);
        names[`#${field}`] = field;
        values[`:${field}`] = value;
      }
      if (filter.triage === "untriaged") conditions.push("attribute_not_exists(triage)");
      else if (filter.triage) {
        conditions.push("triage.#tstate = :tstate");
        names["#tstate"] = "state";
        values[":tstate"] = filter.triage;
      }
      const found: ConsoleAnomaly[] = [];
      let rounds = 0;
      // Newest day first, newest first within a day; the cursor is the day and the position in it.
      while (position.d >= oldest && found.length < filter.limit && rounds < MAX_ROUNDS) {
        rounds += 1;
        const out: QueryCommandOutput = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: "byTime",
            KeyConditionExpression: "gsi1pk = :day",
            ...(conditions.length ? { FilterExpression: conditions.join(" AND ") } : {}),
            ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: { ":day": `ANOMALY#DAY#${dayOf(position.d)}`, ...values },
            ScanIndexForward: false,
            Limit: conditions.length ? FILTERED_READ : filter.limit - found.length,
            ...(position.k ? { ExclusiveStartKey: position.k } : {}),
          }),
        );
        const items = out.Items ?? [];
        for (let i = 0; i < items.length; i++) {
          const anomaly = toConsoleAnomaly(items[i] as Record<string, unknown>);
          if (anomaly) found.push(anomaly);
          if (found.length === filter.limit && i < items.length - 1) {
            // Stop mid-page: resume right after this item.
            const item = items[i] as Record<string, unknown>;
            position = {
              d: position.d,
              k: {
                pk: String(item.pk),
                sk: String(item.sk),
                gsi1pk: String(item.gsi1pk),
                gsi1sk: String(item.gsi1sk),
              },
            };
            return { anomalies: found, cursor: encode(position) };
          }
        }
        position = out.LastEvaluatedKey
          ? { d: position.d, k: out.LastEvaluatedKey as Record<string, string> }
          : { d: position.d - 1 };
      }
      return {
        anomalies: found,
        ...(position.d >= oldest ? { cursor: encode(position) } : {}),
      };
    },

    async forKey(keyId, limit) {
      const items = await queryKeyAnomalyItems(client, tableName, keyId, limit);
      return items.flatMap((item) => toConsoleAnomaly(item) ?? []);
    },

    async triage(id: string, triage: AnomalyTriage) {
      const key = anomalyKey(id);
      if (!key) return false;
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: "SET triage = :triage",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":triage": triage },
          }),
        );
        return true;
      } catch (error) {
        if ((error as Error).name === "ConditionalCheckFailedException") return false;
        throw error;
      }
    },
  };
}

function encode(position: { d: number; k?: Record<string, string> }): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}
