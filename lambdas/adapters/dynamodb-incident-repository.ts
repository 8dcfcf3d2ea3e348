import { randomBytes } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import type { FindingSource } from "../domain/finding.js";
import {
  type AuditEntry,
  INCIDENT_STATES,
  type Incident,
  type IncidentDetails,
  type IncidentKind,
  type IncidentRepository,
  type IncidentState,
  type Occurrence,
} from "../domain/incident.js";
import { InvalidCursorError } from "./dynamodb-cursor.js";

/** Item keys of the incidents table (docs/data-model.md). */
export const incidentKeys = {
  pk: (incidentId: string) => `INCIDENT#${incidentId}`,
  meta: "INCIDENT",
  occurrence: (fingerprint: string) => `OCC#${fingerprint}`,
  audit: (at: string) => `AUDIT#${at}#${randomBytes(4).toString("hex")}`,
  /** byState partition: one per kind and state, so the console lists leaks without unknown keys. */
  statePartition: (kind: IncidentKind, state: IncidentState) =>
    `${kind === "leaked_key" ? "INCIDENT" : "UNKNOWN_KEY"}#${state}`,
  /** byState sort key: most recently updated first; the id makes it unique (a safe cursor). */
  recency: (updatedAt: string, incidentId: string) => `${updatedAt}#${incidentId}`,
};

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, entity: _e, ...rest } = item;
  return rest;
}

export function toIncident(item: Record<string, unknown>): Incident {
  const rest = stripKeys(item);
  const sources =
    rest.sources instanceof Set ? [...(rest.sources as Set<string>)] : ((rest.sources as string[]) ?? []);
  return { ...rest, sources: sources.sort() as FindingSource[] } as unknown as Incident;
}

function incidentItem(incident: Incident): Record<string, unknown> {
  return {
    pk: incidentKeys.pk(incident.incidentId),
    sk: incidentKeys.meta,
    entity: "incident",
    gsi1pk: incidentKeys.statePartition(incident.kind, incident.state),
    gsi1sk: incidentKeys.recency(incident.updatedAt, incident.incidentId),
    ...incident,
    sources: new Set(incident.sources),
  };
}

function occurrenceItem(occurrence: Occurrence): Record<string, unknown> {
  return {
    pk: incidentKeys.pk(occurrence.incidentId),
    sk: incidentKeys.occurrence(occurrence.fingerprint),
    entity: "occurrence",
    ...occurrence,
  };
}

function auditItem(entry: AuditEntry): Record<string, unknown> {
  return {
    pk: incidentKeys.pk(entry.incidentId),
    sk: incidentKeys.audit(entry.at),
    entity: "audit",
    ...entry,
  };
}

/** Cancellation reason codes in item order, or undefined when the error isn't a cancelled transaction. */
function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? "None");
}

const RecencyCursorSchema = z.string().min(1).max(200);

function decodeRecency(cursor: string): string {
  try {
    return RecencyCursorSchema.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    throw new InvalidCursorError({ cause: error });
  }
}

/** Incidents, their occurrences and audit trail in one table; every multi-item change is a transaction. */
export function createIncidentRepository(
  client: DynamoDBDocumentClient,
  tableName: string,
): IncidentRepository {
  const metaKey = (incidentId: string) => ({ pk: incidentKeys.pk(incidentId), sk: incidentKeys.meta });

  return {
    async get(incidentId) {
      const out = await client.send(
        new GetCommand({ TableName: tableName, Key: metaKey(incidentId), ConsistentRead: true }),
      );
      return out.Item ? toIncident(out.Item) : undefined;
    },

    async open(incident, occurrence, audit) {
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: tableName,
                  Item: incidentItem(incident),
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              {
                Put: {
                  TableName: tableName,
                  Item: occurrenceItem(occurrence),
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              { Put: { TableName: tableName, Item: auditItem(audit) } },
            ],
          }),
        );
        return "opened";
      } catch (error) {
        // Another caller opened it first (or is opening it right now): the caller re-reads.
        if (cancellationCodes(error)) return "exists";
        throw error;
      }
    },

    async addOccurrence(current, occurrence, reopen) {
      const now = occurrence.recordedAt;
      const update = reopen
        ? {
            UpdateExpression:
              "SET #state = :open, opening = :opening, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, updatedAt = :now, lastSeenAt = :seen, reopenedAt = :now ADD occurrenceCount :one, sources :sources, version :one",
            ConditionExpression: "#state = :resolved AND opening = :currentOpening",
            ExpressionAttributeValues: {
              ":open": "open",
              ":resolved": "resolved",
              ":opening": current.opening + 1,
              ":currentOpening": current.opening,
              ":gsi1pk": incidentKeys.statePartition(current.kind, "open"),
            },
          }
        : {
            UpdateExpression:
              "SET gsi1sk = :gsi1sk, updatedAt = :now, lastSeenAt = :seen ADD occurrenceCount :one, sources :sources, version :one",
            // A resolve that raced us turns this into a reopen on the retry.
            ConditionExpression: "attribute_exists(pk) AND #state <> :resolved",
            ExpressionAttributeValues: { ":resolved": "resolved" },
          };
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: tableName,
                  Item: occurrenceItem(occurrence),
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              {
                Update: {
                  TableName: tableName,
                  Key: metaKey(current.incidentId),
                  UpdateExpression: update.UpdateExpression,
                  ConditionExpression: update.ConditionExpression,
                  ExpressionAttributeNames: { "#state": "state" },
                  ExpressionAttributeValues: {
                    ...update.ExpressionAttributeValues,
                    ":gsi1sk": incidentKeys.recency(now, current.incidentId),
                    ":now": now,
                    ":seen": occurrence.seenAt,
                    ":one": 1,
                    ":sources": new Set([occurrence.source]),
                  },
                },
              },
              ...(reopen ? [{ Put: { TableName: tableName, Item: auditItem(reopen.audit) } }] : []),
            ],
          }),
        );
        return { outcome: "added", reopened: reopen !== undefined, opening: occurrence.opening };
      } catch (error) {
        const codes = cancellationCodes(error);
        if (!codes) throw error;
        if (codes[0] === "ConditionalCheckFailed") return { outcome: "duplicate" };
        return { outcome: "stale" };
      }
    },

    async transition(current, to, audit) {
      const at = audit.at;
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: metaKey(current.incidentId),
                  UpdateExpression:
                    "SET #state = :to, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, updatedAt = :at ADD version :one",
                  ConditionExpression: "version = :version AND #state = :from",
                  ExpressionAttributeNames: { "#state": "state" },
                  ExpressionAttributeValues: {
                    ":to": to,
                    ":from": current.state,
                    ":version": current.version,
                    ":gsi1pk": incidentKeys.statePartition(current.kind, to),
                    ":gsi1sk": incidentKeys.recency(at, current.incidentId),
                    ":at": at,
                    ":one": 1,
                  },
                },
              },
              { Put: { TableName: tableName, Item: auditItem(audit) } },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (cancellationCodes(error)) return false;
        throw error;
      }
    },

    async details(incidentId): Promise<IncidentDetails | undefined> {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out: QueryCommandOutput = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": incidentKeys.pk(incidentId) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      const meta = items.find((item) => item.sk === incidentKeys.meta);
      if (!meta) return undefined;
      return {
        incident: toIncident(meta),
        occurrences: items
          .filter((item) => item.entity === "occurrence")
          .map((item) => stripKeys(item) as unknown as Occurrence)
          .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt)),
        audit: items
          .filter((item) => item.entity === "audit")
          .map((item) => stripKeys(item) as unknown as AuditEntry),
      };
    },

    async list(query = {}) {
      const limit = Math.min(Math.max(query.limit ?? 25, 1), 100);
      const kind = query.kind ?? "leaked_key";
      const before = query.cursor ? decodeRecency(query.cursor) : undefined;
      const states = query.state ? [query.state] : INCIDENT_STATES;
      // One query per state partition, merged by recency; the cursor is the last sort key returned.
      const pages = await Promise.all(
        states.map((state) =>
          client.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: "byState",
              KeyConditionExpression: before ? "gsi1pk = :pk AND gsi1sk < :before" : "gsi1pk = :pk",
              ExpressionAttributeValues: {
                ":pk": incidentKeys.statePartition(kind, state),
                ...(before ? { ":before": before } : {}),
              },
              ScanIndexForward: false,
              Limit: limit + 1,
            }),
          ),
        ),
      );
      const merged = pages
        .flatMap((page) => page.Items ?? [])
        .sort((a, b) => String(b.gsi1sk).localeCompare(String(a.gsi1sk)));
      const taken = merged.slice(0, limit);
      const more = merged.length > limit || pages.some((page) => page.LastEvaluatedKey !== undefined);
      const last = taken.at(-1);
      return {
        incidents: taken.map(toIncident),
        ...(more && last ? { cursor: Buffer.from(String(last.gsi1sk)).toString("base64url") } : {}),
      };
    },
  };
}
