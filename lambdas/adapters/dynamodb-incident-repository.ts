import { randomBytes } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
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
import {
  type IncidentQueue,
  incidentTerms,
  locationTerms,
  type QueueAuditEntry,
  type QueueIncident,
  type QueueQuery,
  type QueueSort,
  SEVERITY_RANK,
} from "../domain/incident-queue.js";
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
  /** byOpened sort key: most recently opened first. */
  opened: (openedAt: string, incidentId: string) => `${openedAt}#${incidentId}`,
  /** bySeverity sort key: highest severity first, then most recently updated. */
  severity: (severity: Incident["severity"], updatedAt: string, incidentId: string) =>
    `${SEVERITY_RANK[severity]}#${updatedAt}#${incidentId}`,
  /** A search term item (byTerm index): one per term an incident can be found by. */
  term: (term: string) => `TERM#${term}`,
};

/** The queue's indexes: all partitioned by kind + state, each sorted its own way (descending). */
const SORT_INDEX: Record<QueueSort, { index: string; attribute: string }> = {
  updated: { index: "byState", attribute: "gsi1sk" },
  opened: { index: "byOpened", attribute: "openedSk" },
  severity: { index: "bySeverity", attribute: "severitySk" },
};

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _g1,
    gsi1sk: _g2,
    openedSk: _o,
    severitySk: _s,
    entity: _e,
    ...rest
  } = item;
  return rest;
}

function termItem(incident: Pick<Incident, "incidentId" | "kind">, term: string): Record<string, unknown> {
  return {
    pk: incidentKeys.pk(incident.incidentId),
    sk: incidentKeys.term(term),
    entity: "term",
    termpk: term,
    termsk: `${incident.kind}#${incident.incidentId}`,
  };
}

function termPuts(tableName: string, incident: Pick<Incident, "incidentId" | "kind">, terms: string[]) {
  return terms.map((term) => ({ Put: { TableName: tableName, Item: termItem(incident, term) } }));
}

/**
 * Every item an incident's opening writes (incident, first occurrence, audit entry, search
 * terms), in that order. `open` writes them in one transaction; benchmarks load them in batches.
 */
export function openingItems(
  incident: Incident,
  occurrence: Occurrence,
  audit: AuditEntry,
): Record<string, unknown>[] {
  const terms = [...new Set([...incidentTerms(incident), ...locationTerms(occurrence.location)])];
  return [
    incidentItem(incident),
    occurrenceItem(occurrence),
    auditItem(audit),
    ...terms.map((term) => termItem(incident, term)),
  ];
}

function toQueueIncident(item: Record<string, unknown>): QueueIncident {
  return toIncident(item) as QueueIncident;
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
    openedSk: incidentKeys.opened(incident.openedAt, incident.incidentId),
    severitySk: incidentKeys.severity(incident.severity, incident.updatedAt, incident.incidentId),
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

function auditItem(entry: AuditEntry | QueueAuditEntry): Record<string, unknown> {
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

const QueueCursorSchema = z.object({
  s: z.enum(["updated", "opened", "severity"]),
  k: z.string().min(1).max(200),
});

function encodeQueueCursor(sort: QueueSort, sortKey: string): string {
  return Buffer.from(JSON.stringify({ s: sort, k: sortKey })).toString("base64url");
}

function decodeQueueCursor(cursor: string, sort: QueueSort): string {
  try {
    const parsed = QueueCursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    if (parsed.s !== sort) throw new Error("cursor belongs to another sort order");
    return parsed.k;
  } catch (error) {
    throw new InvalidCursorError({ cause: error });
  }
}

/** Items read per query when a filter may drop most of them (DynamoDB applies Limit before the filter). */
const FILTERED_READ = 120;
/** Query rounds one page may take before it answers with what it has and a cursor. */
const MAX_ROUNDS = 6;
const SEARCH_READ = 200;

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
): IncidentRepository & IncidentQueue {
  const metaKey = (incidentId: string) => ({ pk: incidentKeys.pk(incidentId), sk: incidentKeys.meta });

  return {
    async get(incidentId) {
      const out = await client.send(
        new GetCommand({ TableName: tableName, Key: metaKey(incidentId), ConsistentRead: true }),
      );
      return out.Item ? toIncident(out.Item) : undefined;
    },

    async open(incident, occurrence, audit) {
      const [meta, first, opened, ...terms] = openingItems(incident, occurrence, audit);
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: tableName, Item: meta, ConditionExpression: "attribute_not_exists(pk)" } },
              { Put: { TableName: tableName, Item: first, ConditionExpression: "attribute_not_exists(pk)" } },
              { Put: { TableName: tableName, Item: opened } },
              ...terms.map((Item) => ({ Put: { TableName: tableName, Item } })),
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
              "SET #state = :open, opening = :opening, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, severitySk = :severitySk, updatedAt = :now, lastSeenAt = :seen, reopenedAt = :now ADD occurrenceCount :one, sources :sources, version :one",
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
              "SET gsi1sk = :gsi1sk, severitySk = :severitySk, updatedAt = :now, lastSeenAt = :seen ADD occurrenceCount :one, sources :sources, version :one",
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
                    ":severitySk": incidentKeys.severity(current.severity, now, current.incidentId),
                    ":now": now,
                    ":seen": occurrence.seenAt,
                    ":one": 1,
                    ":sources": new Set([occurrence.source]),
                  },
                },
              },
              ...(reopen ? [{ Put: { TableName: tableName, Item: auditItem(reopen.audit) } }] : []),
              ...termPuts(tableName, current, locationTerms(occurrence.location)),
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

    async transition(current, to, audit: AuditEntry & { reason?: string }) {
      const at = audit.at;
      const reason = audit.reason;
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: metaKey(current.incidentId),
                  UpdateExpression: `SET #state = :to, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, severitySk = :severitySk, updatedAt = :at${reason === undefined ? "" : ", triageReason = :reason"} ADD version :one`,
                  ConditionExpression: "version = :version AND #state = :from",
                  ExpressionAttributeNames: { "#state": "state" },
                  ExpressionAttributeValues: {
                    ":to": to,
                    ":from": current.state,
                    ":version": current.version,
                    ":gsi1pk": incidentKeys.statePartition(current.kind, to),
                    ":gsi1sk": incidentKeys.recency(at, current.incidentId),
                    ":severitySk": incidentKeys.severity(current.severity, at, current.incidentId),
                    ":at": at,
                    ":one": 1,
                    ...(reason === undefined ? {} : { ":reason": reason }),
                  },
                },
              },
              { Put: { TableName: tableName, Item: auditItem(audit as AuditEntry) } },
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

    async queue(query: QueueQuery) {
      const { index, attribute } = SORT_INDEX[query.sort];
      const limit = query.limit;
      const before = query.cursor ? decodeQueueCursor(query.cursor, query.sort) : undefined;
      const filters: string[] = [];
      const values: Record<string, unknown> = {};
      if (query.severity) {
        filters.push("severity = :severity");
        values[":severity"] = query.severity;
      }
      if (query.source) {
        filters.push("contains(sources, :source)");
        values[":source"] = query.source;
      }
      if (query.projectId) {
        filters.push("projectId = :project");
        values[":project"] = query.projectId;
      }
      const filtered = filters.length > 0;
      // One descending query per state partition, merged; a partition not read to its end bounds
      // what can be answered: nothing below the highest unread position is known yet.
      const partitions = query.states.map((state) => ({
        pk: incidentKeys.statePartition(query.kind, state),
        start: undefined as Record<string, unknown> | undefined,
        done: false,
        lastKey: undefined as string | undefined,
      }));
      const items: Record<string, unknown>[] = [];
      const sortKeyOf = (item: Record<string, unknown>) => String(item[attribute]);
      const bound = () =>
        partitions
          .filter((p) => !p.done)
          .map((p) => p.lastKey ?? "\uffff")
          .reduce<string | undefined>((max, key) => (max === undefined || key > max ? key : max), undefined);
      const known = () => {
        const lowest = bound();
        return items
          .filter((item) => lowest === undefined || sortKeyOf(item) > lowest)
          .sort((a, b) => sortKeyOf(b).localeCompare(sortKeyOf(a)));
      };
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const reading = partitions.filter((p) => !p.done);
        if (reading.length === 0 || known().length > limit) break;
        const pages = await Promise.all(
          reading.map((p) =>
            client.send(
              new QueryCommand({
                TableName: tableName,
                IndexName: index,
                // Always a range condition: DynamoDB Local walks a bounded range much faster.
                KeyConditionExpression: "gsi1pk = :pk AND #sk < :before",
                ...(filtered ? { FilterExpression: filters.join(" AND ") } : {}),
                ExpressionAttributeNames: { "#sk": attribute },
                ExpressionAttributeValues: {
                  ":pk": p.pk,
                  ":before": before ?? "\uffff",
                  ...values,
                },
                ScanIndexForward: false,
                Limit: filtered ? FILTERED_READ : limit + 1,
                ...(p.start ? { ExclusiveStartKey: p.start } : {}),
              }),
            ),
          ),
        );
        pages.forEach((page, i) => {
          const p = reading[i] as (typeof partitions)[number];
          items.push(...(page.Items ?? []));
          p.start = page.LastEvaluatedKey;
          p.done = page.LastEvaluatedKey === undefined;
          if (page.LastEvaluatedKey) p.lastKey = String(page.LastEvaluatedKey[attribute]);
        });
      }
      const answerable = known();
      const taken = answerable.slice(0, limit);
      const last = taken.at(-1);
      const lowest = bound();
      let cursor: string | undefined;
      if (answerable.length > limit && last) cursor = encodeQueueCursor(query.sort, sortKeyOf(last));
      else if (lowest !== undefined)
        cursor = encodeQueueCursor(query.sort, taken.length === limit && last ? sortKeyOf(last) : lowest);
      return { incidents: taken.map(toQueueIncident), ...(cursor ? { cursor } : {}) };
    },

    async countByState(kind) {
      const counts = Object.fromEntries(INCIDENT_STATES.map((state) => [state, 0])) as Record<
        IncidentState,
        number
      >;
      await Promise.all(
        INCIDENT_STATES.map(async (state) => {
          let start: Record<string, unknown> | undefined;
          do {
            const out: QueryCommandOutput = await client.send(
              new QueryCommand({
                TableName: tableName,
                IndexName: "byState",
                KeyConditionExpression: "gsi1pk = :pk",
                ExpressionAttributeValues: { ":pk": incidentKeys.statePartition(kind, state) },
                Select: "COUNT",
                ...(start ? { ExclusiveStartKey: start } : {}),
              }),
            );
            counts[state] += out.Count ?? 0;
            start = out.LastEvaluatedKey;
          } while (start);
        }),
      );
      return counts;
    },

    async search(terms, limit) {
      const ids = new Set<string>();
      let truncated = false;
      await Promise.all(
        terms.map(async (term) => {
          const out = await client.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: "byTerm",
              KeyConditionExpression: "termpk = :term",
              ExpressionAttributeValues: { ":term": term },
              ProjectionExpression: "pk",
              Limit: SEARCH_READ,
            }),
          );
          if (out.LastEvaluatedKey) truncated = true;
          for (const item of out.Items ?? []) ids.add(String(item.pk));
        }),
      );
      const found: QueueIncident[] = [];
      const keys = [...ids].map((pk) => ({ pk, sk: incidentKeys.meta }));
      for (let i = 0; i < keys.length; i += 100) {
        let request: Record<string, unknown>[] = keys.slice(i, i + 100);
        for (let attempt = 0; request.length > 0 && attempt < 5; attempt++) {
          const out = await client.send(
            new BatchGetCommand({ RequestItems: { [tableName]: { Keys: request } } }),
          );
          found.push(...(out.Responses?.[tableName] ?? []).map(toQueueIncident));
          request = (out.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
        }
      }
      found.sort(
        (a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.incidentId.localeCompare(a.incidentId),
      );
      return { incidents: found.slice(0, limit), truncated: truncated || found.length > limit };
    },

    async assign(current, assignee, audit) {
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: metaKey(current.incidentId),
                  UpdateExpression: assignee
                    ? "SET assignee = :assignee ADD version :one"
                    : "REMOVE assignee ADD version :one",
                  ConditionExpression: "version = :version",
                  ExpressionAttributeValues: {
                    ":version": current.version,
                    ":one": 1,
                    ...(assignee ? { ":assignee": assignee } : {}),
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

    async comment(audit) {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: auditItem(audit),
          // Comments go on an existing incident only.
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    },

    async queueDetails(incidentId) {
      const details = await this.details(incidentId);
      if (!details) return undefined;
      return {
        incident: details.incident as QueueIncident,
        occurrences: details.occurrences,
        audit: (details.audit as QueueAuditEntry[]).sort((a, b) => a.at.localeCompare(b.at)),
      };
    },
  };
}
