import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { BatchGetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";

/** Every detection channel that runs with nobody watching reports its last run here. */
export const SCANNERS = [
  "events_poller",
  "code_search",
  "watcher",
  "partner_webhook",
  "report_form",
] as const;
export type ScannerName = (typeof SCANNERS)[number];

/** One channel's latest run, as the console's health panel shows it (state table, `HEALTH#<scanner>`). */
export const ScannerHealthSchema = z.object({
  scanner: z.enum(SCANNERS),
  /** ISO time the run (or delivery) finished. */
  lastRunAt: z.string(),
  /** ok: did its work; degraded: partial (coverage below target, some items unreachable); failed: did nothing useful; skipped: not configured / credentials missing. */
  outcome: z.enum(["ok", "degraded", "failed", "skipped"]),
  /** Share of the work in view that was done, 0..1 (pushes diffed / pushes seen, for example). */
  coverage: z.number().min(0).max(1).optional(),
  /** Items waiting for a later run (diff backlog, sweep queue). */
  backlog: z.number().int().nonnegative().optional(),
  /** ISO time of the last run with outcome ok. */
  lastOkAt: z.string().optional(),
  /** One line for a person: what was seen, what went wrong. Never a raw key, IP or email. */
  detail: z.string().max(500).optional(),
  /** Counters of this run, named in the channel's words (eventsSeen, pushesDiffed, deliveries ...). */
  counts: z.record(z.string(), z.number()).optional(),
});
export type ScannerHealth = z.infer<typeof ScannerHealthSchema>;

const keyOf = (scanner: ScannerName) => ({ pk: `HEALTH#${scanner}`, sk: "latest" });

/** Writes a channel's latest run; a run that is not ok leaves the previous `lastOkAt` in place. */
export async function recordScannerHealth(
  client: DynamoDBDocumentClient,
  stateTable: string,
  health: ScannerHealth,
): Promise<void> {
  const { lastOkAt: _ignored, ...item } = ScannerHealthSchema.parse(health);
  const fields: Record<string, unknown> = {
    ...item,
    ...(item.outcome === "ok" ? { lastOkAt: item.lastRunAt } : {}),
  };
  const names = Object.keys(fields);
  await client.send(
    new UpdateCommand({
      TableName: stateTable,
      Key: keyOf(item.scanner),
      // Optional fields this run lacks are removed, so a stale coverage figure never lingers.
      UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :v${i}`).join(", ")}${removable(fields)}`,
      ExpressionAttributeNames: Object.fromEntries([
        ...names.map((name, i) => [`#f${i}`, name]),
        ...OPTIONAL.filter((name) => !(name in fields)).map((name) => [`#r_${name}`, name]),
      ]),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, fields[name]])),
    }),
  );
}

const OPTIONAL = ["coverage", "backlog", "detail", "counts"] as const;

function removable(fields: Record<string, unknown>): string {
  const missing = OPTIONAL.filter((name) => !(name in fields));
  return missing.length ? ` REMOVE ${missing.map((name) => `#r_${name}`).join(", ")}` : "";
}

/** The latest run of every channel that has reported one (one BatchGet, no scan). */
export async function readScannerHealth(
  client: DynamoDBDocumentClient,
  stateTable: string,
): Promise<ScannerHealth[]> {
  const result = await client.send(
    new BatchGetCommand({ RequestItems: { [stateTable]: { Keys: SCANNERS.map(keyOf) } } }),
  );
  const items = result.Responses?.[stateTable] ?? [];
  return items
    .map((item) => ScannerHealthSchema.safeParse(item))
    .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
    .sort((a, b) => SCANNERS.indexOf(a.scanner) - SCANNERS.indexOf(b.scanner));
}
