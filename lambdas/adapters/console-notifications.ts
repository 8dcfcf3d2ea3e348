import { BatchGetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface LedgerEntry {
  id: string;
  status: "sent" | "sending";
  at: string;
}

/** What the notifications ledger says about some notification ids (BatchGet by key, no scan). */
export type ReadLedger = (ids: string[]) => Promise<LedgerEntry[]>;

export function createLedgerReader(client: DynamoDBDocumentClient, tableName: string): ReadLedger {
  return async (ids) => {
    const found: LedgerEntry[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map((pk) => ({ pk }));
      for (let attempt = 0; keys.length > 0 && attempt < 5; attempt++) {
        const out = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }));
        for (const item of out.Responses?.[tableName] ?? []) {
          const sent = item.status === "sent";
          found.push({
            id: String(item.pk),
            status: sent ? "sent" : "sending",
            at: String(sent ? (item.sentAt ?? item.claimedAt) : item.claimedAt),
          });
        }
        keys = (out.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    return found;
  };
}
