import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type FindingSource, FindingSourceSchema } from "../domain/finding.js";
import {
  DIGEST_WINDOW_MS,
  MAX_WINDOW_KEYS,
  MAX_WINDOW_REPORTS,
  type UnknownKeySightings,
  type UnknownKeyWindow,
  type UnknownKeyWindowStore,
  windowStartOf,
} from "../domain/unknown-key-digest.js";

/** Windows are kept a month for triage, then expire (they hold key hashes and report ids only). */
const RETENTION_SECONDS = 30 * 24 * 3600;
/** Later windows tried when the current one was sealed under a slow writer. */
const MAX_WINDOW_HOPS = 4;

/**
 * Unknown-key windows live in the incidents table (the tables every recorder already writes):
 * `pk = UNKNOWN_KEYS#<source>`, `sk = WINDOW#<windowStart>`, entity `unknown_key_window`. While a
 * window waits for its digest it sits in the byState index under `UNKNOWN_KEY_DIGEST#pending`
 * (sort key `<windowEnd>#<source>`), so the sender finds pending windows with one query, no scan.
 */
export const unknownKeyWindowKeys = {
  pk: (source: FindingSource) => `UNKNOWN_KEYS#${source}`,
  sk: (windowStart: string) => `WINDOW#${windowStart}`,
  pendingPartition: "UNKNOWN_KEY_DIGEST#pending",
};

const PENDING_INDEX = "byState";

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === "ConditionalCheckFailedException"
  );
}

export function createUnknownKeyWindows(
  client: DynamoDBDocumentClient,
  tableName: string,
): UnknownKeySightings & UnknownKeyWindowStore {
  const keyOf = (source: FindingSource, windowStart: string) => ({
    pk: unknownKeyWindowKeys.pk(source),
    sk: unknownKeyWindowKeys.sk(windowStart),
  });
  const read = async (source: FindingSource, windowStart: string) =>
    (
      await client.send(
        new GetCommand({ TableName: tableName, Key: keyOf(source, windowStart), ConsistentRead: true }),
      )
    ).Item;

  /** Creates or adds to the window; false when it was sealed meanwhile (the caller moves on to the next). */
  async function addKeys(
    source: FindingSource,
    start: Date,
    keyHashes: string[],
  ): Promise<"added" | "sealed" | "full"> {
    const windowStart = start.toISOString();
    const windowEnd = new Date(start.getTime() + DIGEST_WINDOW_MS).toISOString();
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keyOf(source, windowStart),
          UpdateExpression:
            "SET entity = :entity, #source = :source, windowStart = :start, windowEnd = :end, " +
            "gsi1pk = :pending, gsi1sk = :pendingSort, expiresAt = :expires ADD keyHashes :hashes",
          // A sealed window's digest is being sent: nothing may land in it afterwards.
          ConditionExpression:
            "attribute_not_exists(sealedAt) AND (attribute_not_exists(keyHashes) OR size(keyHashes) < :cap)",
          ExpressionAttributeNames: { "#source": "source" },
          ExpressionAttributeValues: {
            ":entity": "unknown_key_window",
            ":source": source,
            ":start": windowStart,
            ":end": windowEnd,
            ":pending": unknownKeyWindowKeys.pendingPartition,
            ":pendingSort": `${windowEnd}#${source}`,
            ":expires": Math.floor(Date.parse(windowEnd) / 1000) + RETENTION_SECONDS,
            ":hashes": new Set(keyHashes),
            ":cap": MAX_WINDOW_KEYS,
          },
        }),
      );
      return "added";
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = await read(source, windowStart);
      return item?.sealedAt ? "sealed" : "full";
    }
  }

  /** A full window still counts what it can't keep, so the digest says "and N more". */
  async function countUncounted(source: FindingSource, windowStart: string, n: number): Promise<boolean> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keyOf(source, windowStart),
          UpdateExpression: "ADD uncountedFindings :n",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(sealedAt)",
          ExpressionAttributeValues: { ":n": n },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async function addReports(source: FindingSource, windowStart: string, reportIds: string[]): Promise<void> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keyOf(source, windowStart),
          UpdateExpression: "ADD reportIds :reports",
          ConditionExpression:
            "attribute_exists(pk) AND attribute_not_exists(sealedAt) AND (attribute_not_exists(reportIds) OR size(reportIds) < :cap)",
          ExpressionAttributeValues: { ":reports": new Set(reportIds), ":cap": MAX_WINDOW_REPORTS },
        }),
      );
    } catch (error) {
      // Enough report ids kept already (or just sealed): the keys themselves are counted.
      if (!isConditionFailure(error)) throw error;
    }
  }

  return {
    async note(source, at, sighting) {
      if (sighting.keyHashes.length === 0) return;
      let start = windowStartOf(at);
      for (let hop = 0; hop < MAX_WINDOW_HOPS; hop++) {
        const windowStart = start.toISOString();
        const outcome = await addKeys(source, start, sighting.keyHashes);
        if (
          outcome === "added" ||
          (outcome === "full" && (await countUncounted(source, windowStart, sighting.keyHashes.length)))
        ) {
          if (sighting.reportIds.length > 0) await addReports(source, windowStart, sighting.reportIds);
          return;
        }
        start = new Date(start.getTime() + DIGEST_WINDOW_MS);
      }
      throw new Error(`unknown-key window for ${source}: ${MAX_WINDOW_HOPS} windows sealed in a row`);
    },

    async pending(endedBefore, limit) {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: PENDING_INDEX,
          KeyConditionExpression: "gsi1pk = :pending AND gsi1sk < :before",
          ExpressionAttributeValues: {
            ":pending": unknownKeyWindowKeys.pendingPartition,
            ":before": endedBefore.toISOString(),
          },
          Limit: limit,
        }),
      );
      return (out.Items ?? []).flatMap((item) => {
        const source = FindingSourceSchema.safeParse(String(item.pk).slice("UNKNOWN_KEYS#".length));
        const windowStart = String(item.sk).slice("WINDOW#".length);
        return source.success ? [{ source: source.data, windowStart }] : [];
      });
    },

    async seal(source, windowStart, at) {
      try {
        const out = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(source, windowStart),
            UpdateExpression: "SET sealedAt = if_not_exists(sealedAt, :at)",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":at": at.toISOString() },
            ReturnValues: "ALL_NEW",
          }),
        );
        return out.Attributes ? toWindow(out.Attributes, source) : undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },

    async markAlerted(source, windowStart, at) {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keyOf(source, windowStart),
          UpdateExpression: "SET alertedAt = if_not_exists(alertedAt, :at) REMOVE gsi1pk, gsi1sk",
          ExpressionAttributeValues: { ":at": at.toISOString() },
        }),
      );
    },
  };
}

function toWindow(item: Record<string, unknown>, source: FindingSource): UnknownKeyWindow {
  const strings = (value: unknown) => (value instanceof Set ? [...(value as Set<string>)].sort() : []);
  return {
    source,
    windowStart: String(item.windowStart),
    windowEnd: String(item.windowEnd),
    keyHashes: strings(item.keyHashes),
    uncountedFindings: Number(item.uncountedFindings ?? 0),
    reportIds: strings(item.reportIds),
  };
}
