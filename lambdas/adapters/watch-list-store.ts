import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import type { FeedCursor, WatchListStore } from "../domain/poll-watched-feeds.js";
import {
  feedIdOf,
  type OwnerType,
  targetName,
  type WatchEntry,
  type WatchTarget,
  WatchTargetSchema,
} from "../domain/watch-list.js";

/**
 * The watch-list table (lambdas/adapters/table-specs.ts `watchList`): every entry in one partition
 * (`TARGET`, sort key `<target id>#<project>`), every feed cursor in another (`FEED`, sort key the
 * feed id), so the watcher reads both with a Query each and nothing ever Scans.
 */
const TARGETS_PK = "TARGET";
const FEEDS_PK = "FEED";

export class WatchListStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WatchListStoreError";
  }
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === "ConditionalCheckFailedException";
}

function entrySk(project: string, target: WatchTarget): string {
  return `${target.id}#${project}`;
}

export interface WatchListAdmin extends WatchListStore {
  /** False when the project already watched the target (adding is idempotent). */
  add(entry: WatchEntry): Promise<boolean>;
  /** The removed entry, or undefined when the project didn't watch it (removing is idempotent). */
  remove(project: string, target: WatchTarget): Promise<WatchEntry | undefined>;
}

export function createWatchListStore(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): WatchListAdmin {
  const { client, tableName } = deps;

  async function queryAll(pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: skPrefix ? "pk = :pk AND begins_with(sk, :prefix)" : "pk = :pk",
          ExpressionAttributeValues: { ":pk": pk, ...(skPrefix ? { ":prefix": skPrefix } : {}) },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  function entryOf(item: Record<string, unknown>): WatchEntry | undefined {
    // Items are written by this adapter only; one that doesn't parse is skipped, never fatal.
    const target = WatchTargetSchema.safeParse(String(item.target ?? ""));
    if (!target.success || typeof item.project !== "string") return undefined;
    return { project: item.project, target: target.data, addedAt: String(item.addedAt ?? "") };
  }

  return {
    async listEntries(): Promise<WatchEntry[]> {
      return (await queryAll(TARGETS_PK)).flatMap((item) => {
        const entry = entryOf(item);
        return entry ? [entry] : [];
      });
    },

    async add(entry: WatchEntry): Promise<boolean> {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: TARGETS_PK,
              sk: entrySk(entry.project, entry.target),
              project: entry.project,
              target: targetName(entry.target),
              targetId: entry.target.id,
              kind: entry.target.kind,
              addedAt: entry.addedAt,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async remove(project: string, target: WatchTarget): Promise<WatchEntry | undefined> {
      const { Attributes } = await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: { pk: TARGETS_PK, sk: entrySk(project, target) },
          ReturnValues: "ALL_OLD",
        }),
      );
      if (!Attributes) return undefined;
      // The feed's cursor goes with its last watcher; another project's entry keeps it.
      const others = await queryAll(TARGETS_PK, `${target.id}#`);
      if (others.length === 0) {
        await client.send(
          new DeleteCommand({ TableName: tableName, Key: { pk: FEEDS_PK, sk: feedIdOf(target) } }),
        );
      }
      return entryOf(Attributes);
    },

    async loadFeedCursors(): Promise<Map<string, FeedCursor>> {
      const cursors = new Map<string, FeedCursor>();
      for (const item of await queryAll(FEEDS_PK)) {
        const cursor: FeedCursor = { feedId: String(item.sk), version: Number(item.version ?? 0) };
        for (const field of ["etag", "newestId", "lastPollAt", "nextPollAt", "unreachable"] as const) {
          if (typeof item[field] === "string") cursor[field] = item[field] as string;
        }
        if (item.ownerType === "User" || item.ownerType === "Organization") {
          cursor.ownerType = item.ownerType as OwnerType;
        }
        if (typeof item.failures === "number") cursor.failures = item.failures;
        cursors.set(cursor.feedId, cursor);
      }
      return cursors;
    },

    async saveFeedCursor(cursor: FeedCursor): Promise<boolean> {
      const { version, ...fields } = cursor;
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: FEEDS_PK, sk: cursor.feedId, ...fields, version: version + 1 },
            // Only from the version this run read: an overlapping run's newer cursor wins.
            ConditionExpression: "attribute_not_exists(pk) OR version = :v",
            ExpressionAttributeValues: { ":v": version },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw new WatchListStoreError(`feed cursor ${cursor.feedId} not saved`, { cause: error });
      }
    },
  };
}
