import { BatchGetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type Finding, FindingSchema, type Location, type RecordFindings } from "../domain/finding.js";
import type { Incident } from "../domain/incident.js";
import { incidentIdFor } from "../domain/incident.js";
import type { KeyStatus } from "../domain/key-record.js";
import { type ChunkLookup, type RegisteredKey, recordFindings } from "../domain/record-findings.js";
import { holdsAnyKey } from "../domain/text-normalisation.js";
import { type Clock, systemClock } from "./clock.js";
import { createIncidentRepository, incidentKeys, toIncident } from "./dynamodb-incident-repository.js";
import { createKeyRepository } from "./dynamodb-key-repository.js";
import type { TableNames } from "./table-specs.js";
import { createUnknownKeyWindows } from "./unknown-key-windows.js";

export interface FindingRecorderDeps {
  client: DynamoDBDocumentClient;
  tables: Pick<TableNames, "keys" | "incidents">;
  clock?: Clock;
}

/**
 * The RecordFindings every detection channel calls, bound to the DynamoDB repositories.
 * Findings are validated here too (zod), so a channel's bug can't write a malformed incident.
 */
export function createFindingRecorder(deps: FindingRecorderDeps): RecordFindings {
  const useCaseDeps = {
    keys: createKeyRepository(deps.client, deps.tables.keys),
    incidents: createIncidentRepository(deps.client, deps.tables.incidents),
    lookup: createChunkLookup(deps.client, deps.tables),
    unknownKeys: createUnknownKeyWindows(deps.client, deps.tables.incidents),
    clock: deps.clock ?? systemClock,
  };
  return async (findings, options) => recordFindings(findings.map(validFinding), useCaseDeps, options);
}

export class InvalidFindingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidFindingError";
  }
}

function validFinding(finding: Finding, index: number): Finding {
  const parsed = FindingSchema.safeParse(finding);
  if (parsed.success) return { ...parsed.data, location: withoutKeys(parsed.data.location) };
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  throw new InvalidFindingError(`finding ${index} is invalid: ${problems}`, { cause: parsed.error });
}

/**
 * The last guard before anything is stored: a location field that holds a key (plain, or
 * percent-/entity-encoded, or split by invisible characters) is dropped, whichever channel sent it.
 */
export function withoutKeys(location: Location): Location {
  const kept: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(location)) {
    if (typeof value === "string" && holdsAnyKey(value)) continue;
    kept[field] = value;
  }
  return kept as Location;
}

/** BatchGetItem takes at most 100 keys per call. */
const BATCH_GET_LIMIT = 100;
/** Rounds for keys DynamoDB returns unprocessed (throttling); then the call fails and the caller retries. */
const UNPROCESSED_ROUNDS = 5;

/**
 * A chunk's registry entries and incidents in BatchGetItem calls (strongly consistent), both
 * tables at once: two reads per key become ~2 calls per 100 keys. Only what recordFindings
 * uses is read from the registry (no owner contact).
 */
export function createChunkLookup(
  client: DynamoDBDocumentClient,
  tables: Pick<TableNames, "keys" | "incidents">,
): ChunkLookup {
  return {
    async lookup(keyHashes) {
      const requests: Array<{ table: string; key: Record<string, string> }> = [
        ...keyHashes.map((keyHash) => ({ table: tables.keys, key: { keyHash } })),
        ...keyHashes.map((keyHash) => ({
          table: tables.incidents,
          key: { pk: incidentKeys.pk(incidentIdFor(keyHash)), sk: incidentKeys.meta },
        })),
      ];
      const keys = new Map<string, RegisteredKey>();
      const incidents = new Map<string, Incident>();
      for (let from = 0; from < requests.length; from += BATCH_GET_LIMIT) {
        const items = await batchGet(client, requests.slice(from, from + BATCH_GET_LIMIT), tables.keys);
        for (const item of items.keys) {
          keys.set(String(item.keyHash), {
            keyHash: String(item.keyHash),
            status: item.status as KeyStatus,
            projectId: String(item.projectId),
            redacted: String(item.redacted),
          });
        }
        for (const item of items.incidents) {
          const incident = toIncident(item);
          incidents.set(incident.keyHash, incident);
        }
      }
      return { keys, incidents };
    },
  };
}

async function batchGet(
  client: DynamoDBDocumentClient,
  requests: Array<{ table: string; key: Record<string, string> }>,
  keysTable: string,
): Promise<{ keys: Record<string, unknown>[]; incidents: Record<string, unknown>[] }> {
  const out = { keys: [] as Record<string, unknown>[], incidents: [] as Record<string, unknown>[] };
  let pending: Record<
    string,
    {
      Keys: Record<string, unknown>[];
      ConsistentRead: true;
      ProjectionExpression?: string;
      ExpressionAttributeNames?: Record<string, string>;
    }
  > = {};
  for (const { table, key } of requests) {
    pending[table] ??=
      table === keysTable
        ? {
            Keys: [],
            ConsistentRead: true,
            ProjectionExpression: "keyHash, #status, projectId, redacted",
            ExpressionAttributeNames: { "#status": "status" },
          }
        : { Keys: [], ConsistentRead: true };
    pending[table].Keys.push(key);
  }
  for (let round = 0; Object.keys(pending).length > 0; round++) {
    if (round >= UNPROCESSED_ROUNDS)
      throw new Error("DynamoDB left keys unprocessed after retries (throttled)");
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
    const result = await client.send(new BatchGetCommand({ RequestItems: pending }));
    for (const [table, items] of Object.entries(result.Responses ?? {})) {
      (table === keysTable ? out.keys : out.incidents).push(...(items as Record<string, unknown>[]));
    }
    pending = (result.UnprocessedKeys ?? {}) as typeof pending;
  }
  return out;
}
