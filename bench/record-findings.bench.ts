/**
 * recordFindings benchmark against DynamoDB Local: findings per second and DynamoDB writes per
 * finding (write items counted by a middleware on the client: a transaction counts each item),
 * for the three paths a finding takes, next to a reference of one plain PutItem per finding
 * measured in the same run (the floor any durable recorder pays).
 * Run: npm run bench:record   (needs Java 17+ for DynamoDB Local)
 */
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { createTables } from "../bin/local/create-tables.js";
import { startDynamoDbLocal } from "../bin/local/dynamodb-local.js";
import { createDocumentClient } from "../lambdas/adapters/dynamodb-client.js";
import { createKeyRepository } from "../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../lambdas/adapters/finding-recorder.js";
import { localTableNames } from "../lambdas/adapters/table-specs.js";
import type { Finding } from "../lambdas/domain/finding.js";
import { issueKey } from "../lambdas/domain/issue-key.js";
import { generateKey, keyHash, redactKey } from "../lambdas/domain/key-format.js";

const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 600);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

const WRITE_COMMANDS: Record<string, (input: Record<string, unknown>) => number> = {
  PutItemCommand: () => 1,
  UpdateItemCommand: () => 1,
  DeleteItemCommand: () => 1,
  TransactWriteItemsCommand: (input) => (input.TransactItems as unknown[]).length,
  BatchWriteItemCommand: (input) =>
    Object.values(input.RequestItems as Record<string, unknown[]>).reduce((n, items) => n + items.length, 0),
};

function finding(rawKey: string, path: string): Finding {
  return {
    keyHash: keyHash(rawKey),
    redacted: redactKey(rawKey),
    source: "github_event",
    location: { repo: "bench/repo", commit: "c0ffee", path },
    seenAt: new Date().toISOString(),
  };
}

/** Runs `work` over items with a fixed number of workers; returns elapsed ms. */
async function pool<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
  return performance.now() - start;
}

async function main(): Promise<void> {
  const dynamo = await startDynamoDbLocal();
  const client = createDocumentClient({ endpoint: dynamo.endpoint });
  const counts = { writes: 0, writeCalls: 0, reads: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const count = WRITE_COMMANDS[context.commandName ?? ""];
      if (count) {
        counts.writes += count(args.input as Record<string, unknown>);
        counts.writeCalls += 1;
      } else counts.reads += 1;
      return next(args);
    },
    { step: "initialize", name: "countWrites" },
  );
  try {
    const tables = localTableNames(`bench${randomBytes(3).toString("hex")}`);
    await createTables(client, tables);
    const keys = createKeyRepository(client, tables.keys);
    const record = createFindingRecorder({ client, tables });
    const raw: string[] = [];
    // Issued through the same worker pool: hundreds of simultaneous connections time out on a busy machine.
    await pool(Array.from({ length: FINDINGS }), async () => {
      raw.push(
        (await issueKey("bench", "bench@example.com", { keys, clock: { now: () => new Date() } })).rawKey,
      );
    });
    const shared = raw[0] as string;

    const rows: Array<{
      scenario: string;
      findingsPerSecond: number;
      writesPerFinding: number;
      callsPerFinding: number;
      readsPerFinding: number;
    }> = [];
    async function measure(
      scenario: string,
      findings: Finding[][],
      call: (batch: Finding[]) => Promise<unknown>,
    ) {
      const before = { ...counts };
      const ms = await pool(findings, call);
      const n = findings.reduce((sum, batch) => sum + batch.length, 0);
      rows.push({
        scenario,
        findingsPerSecond: Math.round((n / ms) * 1000),
        writesPerFinding: Number(((counts.writes - before.writes) / n).toFixed(2)),
        callsPerFinding: Number(((counts.writeCalls - before.writeCalls) / n).toFixed(2)),
        readsPerFinding: Number(((counts.reads - before.reads) / n).toFixed(2)),
      });
    }

    // Reference: one PutItem per finding, nothing else (no lookup, no dedupe, no quarantine).
    await measure(
      "reference: 1 PutItem per finding",
      raw.map((k, i) => [finding(k, `ref-${i}`)]),
      ([f]) =>
        client.send(
          new PutCommand({ TableName: tables.state, Item: { pk: `BENCH#${f?.keyHash}`, sk: "x", ...f } }),
        ),
    );
    await measure(
      "new incident (registered key: quarantine + open)",
      raw.map((k) => [finding(k, "a.env")]),
      record,
    );
    await measure(
      "new location on an existing incident",
      raw.map((k) => [finding(k, "b.env")]),
      record,
    );
    await measure(
      "replay (known location)",
      raw.map((k) => [finding(k, "a.env")]),
      record,
    );
    await measure(
      `one hot key, ${CONCURRENCY} concurrent writers, new locations`,
      Array.from({ length: Math.min(FINDINGS, 200) }, (_, i) => [finding(shared, `hot-${i}`)]),
      record,
    );
    await measure(
      "unknown keys (no registry entry)",
      Array.from({ length: FINDINGS }, (_, i) => [finding(generateKey(), `u-${i}`)]),
      record,
    );

    // Floods (issue 13): one call carrying many keys, as a big partner delivery or report makes it.
    const FLOOD = Number(process.env.BENCH_FLOOD ?? 1_000);
    const flood = Array.from({ length: FLOOD }, (_, i) => finding(generateKey(), `flood-${i}`));
    const floodRegistered = raw.slice(0, 10).map((k) => finding(k, "flood.env"));
    const floodMs: Record<string, number> = {};
    for (const [scenario, batch] of [
      [`flood: one call, ${FLOOD} unknown keys`, flood],
      [`flood replay: the same ${FLOOD} again`, flood],
      [
        `flood: one call, ${FLOOD} keys of which 10 registered`,
        [
          ...floodRegistered,
          ...flood.map((f) => ({ ...f, location: { ...f.location, path: "again.env" } })).slice(10),
        ],
      ],
    ] as const) {
      const started = performance.now();
      await measure(scenario, [[...batch]], record);
      floodMs[scenario] = performance.now() - started;
    }

    const cpu = cpus();
    process.stdout.write(
      `machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}, load(1m) ${loadavg()[0]?.toFixed(2)}\n`,
    );
    process.stdout.write(
      `DynamoDB Local (in memory), ${FINDINGS} findings per scenario, ${CONCURRENCY} concurrent callers, 1 finding per call\n\n`,
    );
    console.table(rows);
    process.stdout.write("\nflood calls (whole call, wall time):\n");
    for (const [scenario, ms] of Object.entries(floodMs))
      process.stdout.write(`  ${scenario}: ${(ms / 1000).toFixed(2)} s\n`);
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

await main();
