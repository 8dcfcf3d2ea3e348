import { createHash, randomUUID } from "node:crypto";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { SweepCursor, SweepState } from "../domain/code-search-sweep.js";
import { byFetchOrder, type PushToScan, pushPriority } from "../domain/github-events.js";
import type { PollerCursor, PollerState } from "../domain/poll-events.js";

/** How long state items live (TTL `expiresAt`): events are at most 6 h old when GitHub lists them. */
export const SEEN_EVENT_TTL_SECONDS = 24 * 3600;
/** An event claimed but not completed this long ago belongs to a run that died (the poller times out at 55 s). */
export const EVENT_CLAIM_LEASE_MS = 2 * 60 * 1000;
export const BACKLOG_TTL_SECONDS = 3 * 24 * 3600;
export const SEEN_LOCATION_TTL_SECONDS = 30 * 24 * 3600;
export const REPO_QUEUE_TTL_SECONDS = 7 * 24 * 3600;

/** The events poller's namespace; the watcher keeps its claims and backlog apart under `WATCHER`. */
export const POLLER_NAMESPACE = "POLLER";
const SWEEP_CURSOR = { pk: "SWEEP#cursor", sk: "cursor" };
const SWEEP_QUEUE_PK = "SWEEP#queue";

export class GitHubScanStateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GitHubScanStateError";
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `fn` over items with at most `limit` in flight. */
async function eachLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === "ConditionalCheckFailedException";
}

function backlogSk(push: PushToScan): string {
  return `${pushPriority(push)}#${push.eventId.padStart(30, "0")}`;
}

function locationPk(key: string): string {
  return `SWEEP#seen#${createHash("sha256").update(key).digest("hex")}`;
}

/** A scheduled scanner's hold on "the one run going now" (state table `LEASE#<scanner>`). */
export interface RunLease {
  scanner: string;
  holder: string;
}

/** One run at a time without reserved concurrency (which fails in accounts with a low concurrency quota). */
export interface RunLeases {
  /** The lease until `untilMs` (the run's deadline), or undefined while another run holds an unexpired one. */
  acquireRunLease(scanner: string, untilMs: number): Promise<RunLease | undefined>;
  releaseRunLease(lease: RunLease): Promise<void>;
}

/** GitHub calls a scanner spent in a clock hour (`<namespace>#budget / <hour>`), so a run may burst within an hourly cap. */
export interface HourlyApiBudget {
  /** Adds `calls` to the hour's count and returns the new total (0 reads it). */
  spendApiCalls(hour: string, calls: number): Promise<number>;
}

/**
 * The GitHub scanners' state in the state table: the poller's cursor (ETag, newest id, next poll
 * time, coverage gaps; optimistic version), the seen-event set, the push backlog, the queue of
 * repos to sweep, the sweep's query cursor and seen locations. Every item has a TTL.
 */
export function createGitHubScanState(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
  now?: () => Date;
  /**
   * Prefix of the cursor, seen-set and backlog items (default `POLLER`). The watcher uses its own, so
   * an event the poller claimed (or dropped from its backlog) is still the watcher's to diff.
   */
  namespace?: string;
}): PollerState & SweepState & RunLeases & HourlyApiBudget {
  const { client, tableName } = deps;
  const namespace = deps.namespace ?? POLLER_NAMESPACE;
  const CURSOR = { pk: `${namespace}#events`, sk: "cursor" };
  const BACKLOG_PK = `${namespace}#backlog`;
  const seenPk = (id: string) => `${namespace}#seen#${id}`;
  const now = deps.now ?? (() => new Date());
  const expiresIn = (seconds: number) => Math.floor(now().getTime() / 1000) + seconds;

  async function batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    for (const batch of chunks(requests, 25)) {
      let pending: Record<string, unknown>[] = batch;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 8) throw new GitHubScanStateError("state table kept items unprocessed");
        const result = await client.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: pending as never } }),
        );
        pending = (result.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
        if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }

  return {
    async acquireRunLease(scanner: string, untilMs: number): Promise<RunLease | undefined> {
      const holder = randomUUID();
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: `LEASE#${scanner}`,
              sk: "run",
              holder,
              until: untilMs,
              expiresAt: Math.ceil(untilMs / 1000) + 3600,
            },
            // A lease past its run's deadline belongs to a run that died: take it over.
            ConditionExpression: "attribute_not_exists(pk) OR #until < :now",
            ExpressionAttributeNames: { "#until": "until" },
            ExpressionAttributeValues: { ":now": now().getTime() },
          }),
        );
        return { scanner, holder };
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },

    async releaseRunLease(lease: RunLease): Promise<void> {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { pk: `LEASE#${lease.scanner}`, sk: "run" },
            ConditionExpression: "holder = :holder",
            ExpressionAttributeValues: { ":holder": lease.holder },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },

    async loadCursor(): Promise<PollerCursor> {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: CURSOR, ConsistentRead: true }),
      );
      const cursor: PollerCursor = {
        coverageGaps: Number(Item?.coverageGaps ?? 0),
        version: Number(Item?.version ?? 0),
      };
      if (typeof Item?.etag === "string") cursor.etag = Item.etag;
      if (typeof Item?.newestId === "string") cursor.newestId = Item.newestId;
      if (typeof Item?.nextPollAt === "string") cursor.nextPollAt = Item.nextPollAt;
      return cursor;
    },

    async saveCursor(cursor: PollerCursor): Promise<boolean> {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...CURSOR,
              etag: cursor.etag,
              newestId: cursor.newestId,
              nextPollAt: cursor.nextPollAt,
              coverageGaps: cursor.coverageGaps,
              version: cursor.version + 1,
              updatedAt: now().toISOString(),
            },
            // Only from the version this run read: a concurrent run's newer cursor wins.
            ConditionExpression: "attribute_not_exists(pk) OR version = :v",
            ExpressionAttributeValues: { ":v": cursor.version },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async claimEvents(ids: readonly string[]): Promise<Set<string>> {
      const unique = [...new Set(ids)];
      const at = now();
      const staleBefore = new Date(at.getTime() - EVENT_CLAIM_LEASE_MS).toISOString();
      const won = await eachLimited(unique, 16, async (id) => {
        try {
          await client.send(
            new PutCommand({
              TableName: tableName,
              Item: {
                pk: seenPk(id),
                sk: "-",
                state: "claimed",
                claimedAt: at.toISOString(),
                expiresAt: expiresIn(SEEN_EVENT_TTL_SECONDS),
              },
              // A claim whose run died before recording (lease over) is claimed again, not lost.
              ConditionExpression: "attribute_not_exists(pk) OR (#state = :claimed AND claimedAt < :stale)",
              ExpressionAttributeNames: { "#state": "state" },
              ExpressionAttributeValues: { ":claimed": "claimed", ":stale": staleBefore },
            }),
          );
          return true;
        } catch (error) {
          if (isConditionFailure(error)) return false;
          throw error;
        }
      });
      return new Set(unique.filter((_, i) => won[i]));
    },

    async completeEvents(ids: readonly string[]): Promise<void> {
      const expiresAt = expiresIn(SEEN_EVENT_TTL_SECONDS);
      await batchWrite(
        [...new Set(ids)].map((id) => ({
          PutRequest: { Item: { pk: seenPk(id), sk: "-", state: "done", expiresAt } },
        })),
      );
    },

    async releaseEvents(ids: readonly string[]): Promise<void> {
      await batchWrite(ids.map((id) => ({ DeleteRequest: { Key: { pk: seenPk(id), sk: "-" } } })));
    },

    async spendApiCalls(hour: string, calls: number): Promise<number> {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: `${namespace}#budget`, sk: hour },
          UpdateExpression: "ADD calls :n SET expiresAt = if_not_exists(expiresAt, :ttl)",
          ExpressionAttributeValues: { ":n": calls, ":ttl": expiresIn(2 * 3600) },
          ReturnValues: "ALL_NEW",
        }),
      );
      return Number(Attributes?.calls ?? 0);
    },

    async loadBacklog(limit: number): Promise<PushToScan[]> {
      const pushes: PushToScan[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": BACKLOG_PK },
            Limit: limit - pushes.length,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const push: PushToScan = {
            eventId: String(item.eventId),
            repo: String(item.repo),
            ref: String(item.ref),
            head: String(item.head),
            before: String(item.before),
          };
          if (typeof item.attempts === "number") push.attempts = item.attempts;
          if (typeof item.commitsCovered === "number") push.commitsCovered = item.commitsCovered;
          if (typeof item.retryAt === "string") push.retryAt = item.retryAt;
          pushes.push(push);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey && pushes.length < limit);
      return pushes.sort(byFetchOrder);
    },

    async addToBacklog(pushes: readonly PushToScan[]): Promise<void> {
      const expiresAt = expiresIn(BACKLOG_TTL_SECONDS);
      await batchWrite(
        pushes.map((push) => ({
          PutRequest: { Item: { pk: BACKLOG_PK, sk: backlogSk(push), ...push, expiresAt } },
        })),
      );
    },

    async removeFromBacklog(pushes: readonly PushToScan[]): Promise<void> {
      await batchWrite(
        pushes.map((push) => ({ DeleteRequest: { Key: { pk: BACKLOG_PK, sk: backlogSk(push) } } })),
      );
    },

    async queueRepoSweep(repo: string): Promise<void> {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: SWEEP_QUEUE_PK,
            sk: repo,
            queuedAt: now().toISOString(),
            expiresAt: expiresIn(REPO_QUEUE_TTL_SECONDS),
          },
        }),
      );
    },

    async queuedRepos(limit: number): Promise<string[]> {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": SWEEP_QUEUE_PK },
          Limit: limit,
        }),
      );
      return (page.Items ?? []).map((item) => String(item.sk));
    },

    async completeQueuedRepo(repo: string): Promise<void> {
      await client.send(new DeleteCommand({ TableName: tableName, Key: { pk: SWEEP_QUEUE_PK, sk: repo } }));
    },

    async unseenLocations(keys: readonly string[]): Promise<Set<string>> {
      const unseen = new Set(keys);
      for (const batch of chunks([...new Set(keys)], 100)) {
        let pending: Record<string, unknown>[] = batch.map((key) => ({ pk: locationPk(key), sk: "-" }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= 8) throw new GitHubScanStateError("state table kept keys unprocessed");
          const result = await client.send(
            new BatchGetCommand({
              RequestItems: {
                [tableName]: {
                  Keys: pending,
                  ProjectionExpression: "pk, #k",
                  ExpressionAttributeNames: { "#k": "key" },
                },
              },
            }),
          );
          for (const item of result.Responses?.[tableName] ?? []) unseen.delete(String(item.key));
          pending = (result.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
          if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
      }
      return unseen;
    },

    async markLocationsSeen(keys: readonly string[]): Promise<void> {
      const expiresAt = expiresIn(SEEN_LOCATION_TTL_SECONDS);
      await batchWrite(
        [...new Set(keys)].map((key) => ({
          PutRequest: { Item: { pk: locationPk(key), sk: "-", key, expiresAt } },
        })),
      );
    },

    async loadSweepCursor(): Promise<SweepCursor> {
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: SWEEP_CURSOR }));
      return { queryIndex: Number(Item?.queryIndex ?? 0) };
    },

    async saveSweepCursor(cursor: SweepCursor): Promise<void> {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...SWEEP_CURSOR, queryIndex: cursor.queryIndex, updatedAt: now().toISOString() },
        }),
      );
    },
  };
}
