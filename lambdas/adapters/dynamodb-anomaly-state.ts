import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import type { KeyProfile } from "../domain/anomaly/key-profile.js";
import type { KeyStatusLookup, ProfileStore } from "../domain/anomaly/ports.js";
import type { KeyLeakStatus } from "../domain/anomaly/use-after-leak.js";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";

const DAY_S = 86_400;
/** Profiles hold a 30-day history; a key idle for longer starts afresh. */
export const PROFILE_RETENTION_DAYS = 31;

export class AnomalyStateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AnomalyStateError";
  }
}

/** Counts the writes this adapter made (the benchmark reports writes per active key-minute). */
export interface WriteCounter {
  writes: number;
}

const profileKey = (keyId: string) => ({ pk: `ANOMALY#KEY#${keyId}`, sk: "PROFILE" });

/**
 * A profile is stored as one JSON string attribute: nested maps of lists cost the SDK and
 * DynamoDB far more to marshal than one string of the same size, and it is only read whole.
 */
function parseProfile(value: unknown): KeyProfile | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const profile = JSON.parse(value) as KeyProfile;
    return profile?.v === 2 && Array.isArray(profile.peaks) ? profile : undefined;
  } catch {
    return undefined; // unreadable: the key starts afresh rather than failing the batch
  }
}
const ATTEMPTS = 5;
const WRITE_CONCURRENCY = 4;

/**
 * Key profiles in the state table, one item per key. Loaded with BatchGet (100 a call) the first
 * time an environment meets a key; written with BatchWrite (25 a call), unprocessed items retried
 * with backoff. Last writer wins: one detector environment owns a key's traffic at a time in
 * practice (docs/anomaly-detection.md "Cost and state").
 */
export function createDynamoDbProfileStore(
  client: DynamoDBDocumentClient,
  tableName: string,
  options: { clock?: Clock; counter?: WriteCounter } = {},
): ProfileStore {
  const clock = options.clock ?? systemClock;
  const counter = options.counter ?? { writes: 0 };
  return {
    async loadProfiles(keyIds) {
      const found = new Map<string, KeyProfile>();
      for (let i = 0; i < keyIds.length; i += 100) {
        let keys: Record<string, unknown>[] | undefined = keyIds.slice(i, i + 100).map(profileKey);
        for (let attempt = 0; keys && keys.length > 0; attempt++) {
          if (attempt === ATTEMPTS)
            throw new AnomalyStateError("profiles still unprocessed after 5 attempts");
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const out: BatchGetCommandOutput = await client.send(
            new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }),
          );
          for (const item of out.Responses?.[tableName] ?? []) {
            const profile = parseProfile(item.profile);
            if (profile) found.set(String(item.pk).slice("ANOMALY#KEY#".length), profile);
          }
          keys = out.UnprocessedKeys?.[tableName]?.Keys;
        }
      }
      return found;
    },

    async saveProfiles(profiles) {
      const expiresAt = Math.floor(clock.now().getTime() / 1000) + PROFILE_RETENTION_DAYS * DAY_S;
      const chunks: Record<string, unknown>[][] = [];
      for (let i = 0; i < profiles.length; i += 25) {
        chunks.push(
          profiles.slice(i, i + 25).map(([keyId, profile]) => ({
            PutRequest: { Item: { ...profileKey(keyId), profile: JSON.stringify(profile), expiresAt } },
          })),
        );
      }
      const writeChunk = async (chunk: Record<string, unknown>[]) => {
        let requests: Record<string, unknown>[] | undefined = chunk;
        for (let attempt = 0; requests && requests.length > 0; attempt++) {
          if (attempt === ATTEMPTS)
            throw new AnomalyStateError("profiles still unprocessed after 5 attempts");
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          counter.writes += requests.length;
          const out: BatchWriteCommandOutput = await client.send(
            new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }),
          );
          requests = out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
        }
      };
      // A few batch writes in flight at once: the flush is bound by round trips, not by capacity.
      for (let i = 0; i < chunks.length; i += WRITE_CONCURRENCY) {
        await Promise.all(chunks.slice(i, i + WRITE_CONCURRENCY).map(writeChunk));
      }
    },
  };
}

/**
 * Registry status by keyId through the keys table's `byKeyId` index, cached briefly (a burst
 * mentions the same keys again and again). At most `maxLookups` uncached ids per call, in the
 * caller's priority order: a stuffing burst of random ids can't turn into thousands of queries.
 */
export function createKeyStatusLookup(
  client: DynamoDBDocumentClient,
  keysTable: string,
  options: { ttlMs?: number; maxLookups?: number; concurrency?: number; clock?: Clock } = {},
): KeyStatusLookup & { skipped: number } {
  const ttl = options.ttlMs ?? 60_000;
  const max = options.maxLookups ?? 200;
  const concurrency = options.concurrency ?? 16;
  const clock = options.clock ?? systemClock;
  const cache = new Map<string, { at: number; status: KeyLeakStatus | null }>();

  const query = async (keyId: string): Promise<KeyLeakStatus | null> => {
    const out = await client.send(
      new QueryCommand({
        TableName: keysTable,
        IndexName: "byKeyId",
        KeyConditionExpression: "keyId = :k",
        // Never the owner's email: only what the detectors need.
        ProjectionExpression: "#s, projectId, compromisedAt, incidentId, revokedAt",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":k": keyId },
        Limit: 1,
      }),
    );
    const item = out.Items?.[0];
    if (!item) return null;
    const status = item.status === "compromised" || item.status === "revoked" ? item.status : "active";
    return {
      status,
      ...(typeof item.projectId === "string" ? { projectId: item.projectId } : {}),
      ...(typeof item.compromisedAt === "string" ? { compromisedAt: item.compromisedAt } : {}),
      ...(typeof item.incidentId === "string" ? { incidentId: item.incidentId } : {}),
      ...(typeof item.revokedAt === "string" ? { revokedAt: item.revokedAt } : {}),
    };
  };

  const lookup = async (keyIds: readonly string[]) => {
    const now = clock.now().getTime();
    const result = new Map<string, KeyLeakStatus>();
    const todo: string[] = [];
    for (const keyId of keyIds) {
      const hit = cache.get(keyId);
      if (hit && now - hit.at < ttl) {
        if (hit.status) result.set(keyId, hit.status);
      } else if (todo.length < max) todo.push(keyId);
      else lookup.skipped++;
    }
    for (let i = 0; i < todo.length; i += concurrency) {
      const slice = todo.slice(i, i + concurrency);
      const statuses = await Promise.all(slice.map(query));
      slice.forEach((keyId, j) => {
        const status = statuses[j] ?? null;
        cache.set(keyId, { at: now, status });
        if (status) result.set(keyId, status);
      });
    }
    if (cache.size > 50_000) cache.clear();
    return result;
  };
  lookup.skipped = 0;
  return lookup;
}
