import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { type Anomaly, AnomalySchema, type AnomalyType } from "../domain/anomaly/anomaly.js";
import type { AnomalyStore } from "../domain/anomaly/ports.js";
import { type Clock, systemClock } from "./clock.js";
import type { WriteCounter } from "./dynamodb-anomaly-state.js";

/** Anomalies are kept for investigations, then expire (docs/privacy.md). */
export const ANOMALY_RETENTION_DAYS = 90;
const DAY_MS = 86_400_000;

export class AnomalyRepositoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AnomalyRepositoryError";
  }
}

export interface AnomalyRepository extends AnomalyStore {
  /** Anomalies whose window starts in [from, to), oldest first, optionally of one type. */
  listByTime(range: { from: Date; to: Date; type?: AnomalyType; limit?: number }): Promise<Anomaly[]>;
  /** One key's anomalies, newest first. */
  listByKey(keyId: string, options?: { limit?: number }): Promise<Anomaly[]>;
}

const FIELDS = [
  "type",
  "severity",
  "keyId",
  "projectId",
  "ipPrefix",
  "countries",
  "windowStart",
  "windowEnd",
  "count",
  "incidentId",
  "asn",
  "provider",
  "peakCount",
  "peakAt",
  "reason",
] as const;

function toAnomaly(item: Record<string, unknown>): Anomaly | undefined {
  const picked: Record<string, unknown> = {};
  for (const field of FIELDS) if (item[field] !== undefined) picked[field] = item[field];
  const parsed = AnomalySchema.safeParse(picked);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The anomalies table: pk = the subject (`ANOMALY#KEY#<keyId>`, `ANOMALY#CLIENT#<hmac>`,
 * `ANOMALY#ASN#<n>`, `ANOMALY#GLOBAL`, `ANOMALY#PLATFORM`), sk = episode start + type, so an
 * episode is one item however often it is updated;
 * the `byTime` index partitions by UTC day (gsi1pk `ANOMALY#DAY#<date>`, gsi1sk window start).
 */
/** One key's anomaly items, newest first (the CLI and the console's incident page read them). */
export async function queryKeyAnomalyItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  keyId: string,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const out = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": `ANOMALY#KEY#${keyId}` },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return out.Items ?? [];
}

export function createAnomalyRepository(
  client: DynamoDBDocumentClient,
  tableName: string,
  options: { counter?: WriteCounter; clock?: Clock } = {},
): AnomalyRepository {
  const counter = options.counter ?? { writes: 0 };
  const clock = options.clock ?? systemClock;
  return {
    async save(anomalies) {
      for (const { anomaly, subject } of anomalies) {
        // Kept for the retention from when it was found: a replayed old log must not expire at once.
        const from = Math.max(Date.parse(anomaly.windowStart), clock.now().getTime());
        const pk = `ANOMALY#${subject}`;
        // One item per episode: subject + type + episode start. Updated in place with SET on the
        // detector's own attributes only, so the console's `triage` map survives every update.
        const sk = `${anomaly.windowStart}#${anomaly.type}#`;
        const values: Record<string, unknown> = {
          gsi1pk: `ANOMALY#DAY#${anomaly.windowStart.slice(0, 10)}`,
          gsi1sk: `${anomaly.windowStart}#${anomaly.type}#${subject}`,
          ...anomaly,
          expiresAt: Math.floor(from / 1000) + ANOMALY_RETENTION_DAYS * 86_400,
        };
        const names: Record<string, string> = {};
        const placeholders: Record<string, unknown> = {};
        const sets: string[] = [];
        Object.entries(values).forEach(([name, value], i) => {
          if (value === undefined) return;
          names[`#a${i}`] = name;
          placeholders[`:v${i}`] = value;
          sets.push(`#a${i} = :v${i}`);
        });
        let attempt = 0;
        for (;;) {
          try {
            counter.writes++;
            await client.send(
              new UpdateCommand({
                TableName: tableName,
                Key: { pk, sk },
                UpdateExpression: `SET ${sets.join(", ")}`,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: placeholders,
              }),
            );
            break;
          } catch (error) {
            if (++attempt === 3)
              throw new AnomalyRepositoryError(`could not store an anomaly of ${subject}`, { cause: error });
            await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          }
        }
      }
    },

    async listByTime({ from, to, type, limit = 1_000 }) {
      const found: Anomaly[] = [];
      const firstDay = Math.floor(from.getTime() / DAY_MS);
      const lastDay = Math.floor((to.getTime() - 1) / DAY_MS);
      for (let day = firstDay; day <= lastDay && found.length < limit; day++) {
        const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
        let cursor: Record<string, unknown> | undefined;
        do {
          const out: QueryCommandOutput = await client.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: "byTime",
              KeyConditionExpression: "gsi1pk = :day AND gsi1sk BETWEEN :from AND :to",
              ExpressionAttributeValues: {
                ":day": `ANOMALY#DAY#${date}`,
                ":from": from.toISOString(),
                // "~" sorts after every "#type#subject" suffix of the last millisecond.
                ":to": `${new Date(to.getTime() - 1).toISOString()}~`,
              },
              ExclusiveStartKey: cursor,
            }),
          );
          for (const item of out.Items ?? []) {
            const anomaly = toAnomaly(item);
            if (anomaly && (!type || anomaly.type === type) && found.length < limit) found.push(anomaly);
          }
          cursor = out.LastEvaluatedKey;
        } while (cursor && found.length < limit);
      }
      return found;
    },

    async listByKey(keyId, { limit = 100 } = {}) {
      const items = await queryKeyAnomalyItems(client, tableName, keyId, limit);
      return items.flatMap((item) => toAnomaly(item) ?? []);
    },
  };
}
