import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type {
  ErasureRecord,
  Mention,
  OwnedKey,
  PersonalDataStore,
  SentNotification,
  SentReport,
} from "../domain/privacy.js";
import { TABLES, type TableKey, type TableNames } from "./table-specs.js";

/** Erasure records are kept this long: long enough to answer regulators, then they expire too. */
export const ERASURE_RECORD_RETENTION_DAYS = 3 * 365;
export const ERASURE_PK = "PRIVACY#erasure";

type Item = Record<string, unknown>;

function mentions(value: unknown, email: string): boolean {
  if (typeof value === "string") return value.toLowerCase().includes(email);
  if (Array.isArray(value)) return value.some((v) => mentions(v, email));
  if (value instanceof Set) return [...value].some((v) => mentions(v, email));
  if (value && typeof value === "object") return Object.values(value).some((v) => mentions(v, email));
  return false;
}

function redact(value: unknown, pattern: RegExp): unknown {
  if (typeof value === "string") return value.replace(pattern, "[erased]");
  if (Array.isArray(value)) return value.map((v) => redact(v, pattern));
  if (value instanceof Set) return new Set([...value].map((v) => redact(v, pattern)));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, pattern)]));
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function keyOf(table: TableKey, item: Item): Record<string, string> {
  const spec = TABLES[table];
  const key: Record<string, string> = { [spec.partitionKey]: String(item[spec.partitionKey]) };
  if ("sortKey" in spec && spec.sortKey) key[spec.sortKey] = String(item[spec.sortKey]);
  return key;
}

/** Header value of an .eml file (first occurrence, unfolded). */
function header(eml: string, name: string): string | undefined {
  const head = eml.split(/\r?\n\r?\n/, 1)[0] ?? "";
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, "im").exec(head);
  return match?.[1]?.replace(/\r?\n[ \t]+/g, " ").trim();
}

/**
 * PersonalDataStore over the keys (byOwner), reports (byReporter) and every other table (a
 * scan: privacy requests are rare, and "wherever it occurs" must not depend on knowing each
 * item shape). Locally, `outboxEmails` is the folder of sent .eml files.
 */
export function createPersonalDataStore(deps: {
  client: DynamoDBDocumentClient;
  tables: TableNames;
  outboxEmails?: string;
}): PersonalDataStore {
  const { client, tables } = deps;

  async function queryIndex(
    table: TableKey,
    index: string,
    attribute: string,
    value: string,
  ): Promise<Item[]> {
    const items: Item[] = [];
    const pages = paginateQuery(
      { client },
      {
        TableName: tables[table],
        IndexName: index,
        KeyConditionExpression: "#a = :v",
        ExpressionAttributeNames: { "#a": attribute },
        ExpressionAttributeValues: { ":v": value },
      },
    );
    for await (const page of pages) items.push(...((page.Items ?? []) as Item[]));
    return items;
  }

  return {
    async keysOwnedBy(email) {
      const items = await queryIndex("keys", "byOwner", "ownerEmail", email);
      return items.map(
        (item): OwnedKey => ({
          keyHash: String(item.keyHash),
          ...(item.keyId ? { keyId: String(item.keyId) } : {}),
          ...(item.redacted ? { redacted: String(item.redacted) } : {}),
          ...(item.projectId ? { projectId: String(item.projectId) } : {}),
          ...(item.status ? { status: String(item.status) } : {}),
          ...(item.createdAt ? { createdAt: String(item.createdAt) } : {}),
          ...(item.incidentId ? { incidentId: String(item.incidentId) } : {}),
        }),
      );
    },

    async reportsSentBy(email) {
      const items = await queryIndex("reports", "byReporter", "reporterEmail", email);
      return items.map((item): SentReport => {
        const { pk, receivedAt, ...fields } = item;
        return { reportId: String(pk), ...(receivedAt ? { receivedAt: String(receivedAt) } : {}), fields };
      });
    },

    async notificationsTo(email) {
      const dir = deps.outboxEmails;
      if (!dir || !existsSync(dir)) return [];
      const found: SentNotification[] = [];
      for (const name of readdirSync(dir).filter((n) => n.endsWith(".eml"))) {
        const eml = readFileSync(join(dir, name), "utf8");
        if (!(header(eml, "To") ?? "").toLowerCase().includes(email)) continue;
        const subject = header(eml, "Subject");
        const date = header(eml, "Date");
        found.push({
          id: name,
          ...(subject ? { subject } : {}),
          ...(date ? { sentAt: new Date(date).toISOString() } : {}),
        });
      }
      return found.sort((a, b) => a.id.localeCompare(b.id));
    },

    async mentionsOf(email) {
      const found: Mention[] = [];
      for (const table of Object.keys(TABLES) as TableKey[]) {
        for await (const page of paginateScan({ client }, { TableName: tables[table] })) {
          for (const item of (page.Items ?? []) as Item[]) {
            const attributes = Object.keys(item).filter((name) => {
              // Covered by keysOwnedBy / reportsSentBy (detached or deleted there).
              if (table === "keys" && name === "ownerEmail") return false;
              if (table === "reports" && String(item.reporterEmail ?? "").toLowerCase() === email)
                return false;
              return mentions(item[name], email);
            });
            if (attributes.length > 0) found.push({ table, key: keyOf(table, item), attributes });
          }
        }
      }
      return found;
    },

    async detachOwner(keyHash, at) {
      await client.send(
        new UpdateCommand({
          TableName: tables.keys,
          Key: { keyHash },
          // Removing the attribute also drops the item from the byOwner index.
          UpdateExpression: "REMOVE ownerEmail SET ownerErasedAt = :at",
          ConditionExpression: "attribute_exists(keyHash)",
          ExpressionAttributeValues: { ":at": at },
        }),
      );
    },

    async deleteReport(reportId) {
      await client.send(new DeleteCommand({ TableName: tables.reports, Key: { pk: reportId } }));
    },

    async deleteNotification(id) {
      if (!deps.outboxEmails || id.includes("/") || id.includes("\\")) return;
      rmSync(join(deps.outboxEmails, id), { force: true });
    },

    async redactMention(mention, email) {
      const table = mention.table as TableKey;
      const { Item: item } = await client.send(
        new GetCommand({ TableName: tables[table], Key: mention.key, ConsistentRead: true }),
      );
      if (!item) return;
      const pattern = new RegExp(escapeRegExp(email), "gi");
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets: string[] = [];
      const removes: string[] = [];
      mention.attributes.forEach((attribute, i) => {
        names[`#a${i}`] = attribute;
        const value = (item as Item)[attribute];
        if (typeof value === "string" && value.trim().toLowerCase() === email) removes.push(`#a${i}`);
        else {
          values[`:v${i}`] = redact(value, pattern);
          sets.push(`#a${i} = :v${i}`);
        }
      });
      const pk = TABLES[table].partitionKey;
      await client.send(
        new UpdateCommand({
          TableName: tables[table],
          Key: mention.key,
          UpdateExpression: [
            sets.length ? `SET ${sets.join(", ")}` : "",
            removes.length ? `REMOVE ${removes.join(", ")}` : "",
          ]
            .filter(Boolean)
            .join(" "),
          // Never resurrect an item deleted meanwhile.
          ConditionExpression: `attribute_exists(#pk)`,
          ExpressionAttributeNames: { ...names, "#pk": pk },
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    },

    async recordErasure(entry: ErasureRecord) {
      const expiresAt = Math.floor(Date.parse(entry.at) / 1000) + ERASURE_RECORD_RETENTION_DAYS * 86_400;
      await client.send(
        new PutCommand({
          TableName: tables.state,
          Item: { pk: ERASURE_PK, sk: `${entry.at}#${entry.erasureId}`, ...entry, expiresAt },
        }),
      );
    },
  };
}
