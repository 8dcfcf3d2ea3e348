import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Anomaly } from "../domain/anomaly/anomaly.js";
import type { KeyBaseline } from "../domain/anomaly/key-baseline.js";
import type {
  AlertGate,
  KeyStatusLookup,
  StoredBaseline,
  TrafficStateStore,
} from "../domain/anomaly/ports.js";
import type { KeyLeakStatus } from "../domain/anomaly/use-after-leak.js";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";

const DAY_S = 86_400;
/** Baselines hold a 30-day country history; a key idle for longer starts afresh. */
export const BASELINE_RETENTION_DAYS = 31;
export const REFUSED_WINDOW_RETENTION_DAYS = 1;
export const ALERT_GATE_RETENTION_DAYS = 2;

export class AnomalyStateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AnomalyStateError";
  }
}

/** Counts the writes this adapter made (the benchmark reports writes per 1,000 events). */
export interface WriteCounter {
  writes: number;
}

const baselineKey = (keyId: string) => ({ pk: `ANOMALY#KEY#${keyId}`, sk: "BASELINE" });

/**
 * Detector state in the state table: one baseline item per key (versioned, conditional put),
 * one refused-keys set per client network pseudonym and window, one alert gate per subject + type.
 */
export function createDynamoDbAnomalyState(
  client: DynamoDBDocumentClient,
  tableName: string,
  options: { clock?: Clock; refusedKeysCap?: number; counter?: WriteCounter } = {},
): TrafficStateStore & AlertGate {
  const clock = options.clock ?? systemClock;
  const cap = options.refusedKeysCap ?? 100;
  const counter = options.counter ?? { writes: 0 };
  const expires = (days: number) => Math.floor(clock.now().getTime() / 1000) + days * DAY_S;

  return {
    async loadBaselines(keyIds) {
      const found = new Map<string, StoredBaseline>();
      for (let i = 0; i < keyIds.length; i += 100) {
        let keys: Record<string, unknown>[] | undefined = keyIds.slice(i, i + 100).map(baselineKey);
        for (let attempt = 0; keys && keys.length > 0; attempt++) {
          if (attempt === 5) throw new AnomalyStateError("baselines still unprocessed after 5 attempts");
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const out: BatchGetCommandOutput = await client.send(
            new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of out.Responses?.[tableName] ?? []) {
            found.set(String(item.pk).slice("ANOMALY#KEY#".length), {
              baseline: item.baseline as KeyBaseline,
              version: Number(item.version),
            });
          }
          keys = out.UnprocessedKeys?.[tableName]?.Keys;
        }
      }
      return found;
    },

    async saveBaseline(keyId, baseline, expectedVersion) {
      try {
        counter.writes++;
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...baselineKey(keyId),
              baseline,
              version: (expectedVersion ?? 0) + 1,
              expiresAt: expires(BASELINE_RETENTION_DAYS),
            },
            ...(expectedVersion === undefined
              ? { ConditionExpression: "attribute_not_exists(pk)" }
              : {
                  ConditionExpression: "version = :v",
                  ExpressionAttributeValues: { ":v": expectedVersion },
                }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw new AnomalyStateError(`could not save the baseline of key ${keyId}`, { cause: error });
      }
    },

    async addRefusedKeys(clientId, windowStart, keyIds) {
      const adding = keyIds.slice(0, cap);
      try {
        counter.writes++;
        const out = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: `ANOMALY#CLIENT#${clientId}`, sk: `REFUSED#${windowStart}` },
            UpdateExpression: "ADD keyIds :ids SET expiresAt = :exp",
            // Past the cap the window has already crossed every threshold: nothing more to learn.
            ConditionExpression: "attribute_not_exists(keyIds) OR size(keyIds) < :cap",
            ExpressionAttributeValues: {
              ":ids": new Set(adding),
              ":exp": Math.max(windowStart * 60, expires(0)) + REFUSED_WINDOW_RETENTION_DAYS * DAY_S,
              ":cap": cap,
            },
            ReturnValues: "ALL_OLD",
          }),
        );
        const old = (out.Attributes?.keyIds as Set<string> | undefined) ?? new Set<string>();
        let after = old.size;
        for (const id of adding) if (!old.has(id)) after++;
        return { before: old.size, after };
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return { before: cap, after: cap };
        throw new AnomalyStateError("could not record refused keys", { cause: error });
      }
    },

    async admit(subject, anomaly) {
      counter.writes++;
      const out = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: gateKey(subject, anomaly),
          UpdateExpression: "ADD pending :one SET expiresAt = :exp",
          ExpressionAttributeValues: { ":one": 1, ":exp": expires(ALERT_GATE_RETENTION_DAYS) },
          ReturnValues: "ALL_NEW",
        }),
      );
      const pending = Number(out.Attributes?.pending ?? 1);
      return {
        alert: out.Attributes?.alertedHour !== hourOf(anomaly),
        suppressedRepeats: Math.max(0, pending - 1),
      };
    },

    async alerted(subject, anomaly) {
      counter.writes++;
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: gateKey(subject, anomaly),
          UpdateExpression: "SET alertedHour = :hour, pending = :zero",
          ExpressionAttributeValues: { ":hour": hourOf(anomaly), ":zero": 0 },
        }),
      );
    },
  };
}

function hourOf(anomaly: Anomaly): number {
  return Math.floor(Date.parse(anomaly.windowStart) / 3_600_000);
}

function gateKey(subject: string, anomaly: Anomaly) {
  return { pk: `ANOMALY#ALERT#${subject}#${anomaly.type}`, sk: "GATE" };
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
  const concurrency = options.concurrency ?? 8;
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
