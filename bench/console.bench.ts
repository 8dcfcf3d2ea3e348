/**
 * Console API benchmark: the handler the console Lambda runs, against DynamoDB Local holding
 * BENCH_INCIDENTS incidents (default 10,000; every index and search term written as `open`
 * writes them). For each request shape it prints p50 / p95 / max over BENCH_ROUNDS calls
 * (goal: list and filter p95 < 300 ms), and the per-state counts (their own request: counting
 * reads every incident of a kind).
 * Run: npm run bench:console   (needs Java 17+ for DynamoDB Local)
 */
import { cpus, loadavg } from "node:os";
import { createTables } from "../bin/local/create-tables.js";
import { startDynamoDbLocal } from "../bin/local/dynamodb-local.js";
import { createConsoleAnomalies } from "../lambdas/adapters/console-anomalies.js";
import { createDocumentClient } from "../lambdas/adapters/dynamodb-client.js";
import { createIncidentRepository } from "../lambdas/adapters/dynamodb-incident-repository.js";
import { localTableNames } from "../lambdas/adapters/table-specs.js";
import { makeConsoleApiHandler } from "../lambdas/handlers/console-api.js";
import { httpEvent } from "../test/support/http-event.js";
import { seedIncidents } from "../test/support/incident-fixtures.js";

const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const dynamo = await startDynamoDbLocal();
  try {
    const client = createDocumentClient({ endpoint: dynamo.endpoint });
    const tables = localTableNames("bench");
    await createTables(client, tables);
    const loadStart = performance.now();
    const seeded = await seedIncidents(client, tables.incidents, INCIDENTS, { seed: 2026 });
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const api = makeConsoleApiHandler({
      incidents: createIncidentRepository(client, tables.incidents),
      anomalies: createConsoleAnomalies(client, tables.anomalies),
      actorOf: () => "user:bench",
    });
    const target = seeded[Math.floor(seeded.length / 2)];
    // Request shapes an analyst sends; the second page follows a real cursor.
    const first = JSON.parse(
      (await api(httpEvent("GET /api/incidents", { query: { state: "open_work", limit: "50" } }))).body ??
        "{}",
    );
    const shapes: [string, Record<string, string>][] = [
      ["list: open work, 50, by update (default)", { state: "open_work", limit: "50" }],
      ["list: next page (cursor)", { state: "open_work", limit: "50", cursor: String(first.cursor) }],
      ["list: every state, by opening", { state: "all", sort: "opened", limit: "50" }],
      ["list: open work, by severity", { state: "open_work", sort: "severity", limit: "50" }],
      ["filter: project", { state: "open_work", project: "checkout", limit: "50" }],
      [
        "filter: project + source + severity",
        { state: "all", project: "billing", source: "user_report", severity: "high", limit: "50" },
      ],
      ["filter: severity low (rare)", { state: "all", severity: "low", limit: "50" }],
      ["filter: unknown keys", { kind: "unknown_key", state: "open_work", limit: "50" }],
      ["search: key id", { q: target?.incident.keyId ?? "", state: "all" }],
      ["search: repository", { q: target?.repo ?? "", state: "all" }],
    ];
    const rows: string[] = [];
    const requests: [string, string, Record<string, string>][] = [
      ...shapes.map(([name, query]): [string, string, Record<string, string>] => [
        name,
        "GET /api/incidents",
        query,
      ]),
      ["counts per state: leaked keys", "GET /api/incident-counts", {}],
      ["counts per state: unknown keys", "GET /api/incident-counts", { kind: "unknown_key" }],
    ];
    for (const [name, route, query] of requests) {
      const times: number[] = [];
      let shown = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const start = performance.now();
        const result = await api(httpEvent(route, { query }));
        times.push(performance.now() - start);
        if (result.statusCode !== 200) throw new Error(`${name}: HTTP ${result.statusCode} ${result.body}`);
        shown = JSON.parse(result.body ?? "{}").incidents?.length ?? 0;
      }
      times.sort((a, b) => a - b);
      rows.push(
        `| ${name} | ${shown} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} | ${(times.at(-1) ?? 0).toFixed(1)} |`,
      );
    }
    console.log(
      `machine: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores, Node ${process.version}, 1-min load ${loadavg()[0]?.toFixed(2)}`,
    );
    console.log(
      `${INCIDENTS} incidents loaded in ${loadSeconds.toFixed(1)} s; ${ROUNDS} calls per shape, ms:`,
    );
    console.log("| request | incidents answered | p50 | p95 | max |\n| --- | --- | --- | --- | --- |");
    for (const row of rows) console.log(row);
  } finally {
    await dynamo.stop();
  }
}

await main();
