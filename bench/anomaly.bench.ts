/**
 * Anomaly detection benchmark (issue 15): the independent traffic model (bench/traffic-model/,
 * 200 keys x 3 days) through the detector code in 5-second batches, scored per attack and per
 * benign pattern, on the tuning seed and on a hold-out variant; then ingest throughput and
 * writes per active key-minute end to end against DynamoDB Local.
 * Run: npm run bench:anomaly   (BENCH_DAYS=1 for a shorter run; BENCH_VARIANTS=holdout to score one
 * variant; BENCH_ONLY_DB=1 / BENCH_SKIP_DB=1; BENCH_DB_MINUTES=120 minutes of traffic for DynamoDB Local)
 */
import { cpus, loadavg } from "node:os";
import { gzipSync } from "node:zlib";
import { createTables } from "../bin/local/create-tables.js";
import { startDynamoDbLocal } from "../bin/local/dynamodb-local.js";
import { createAnomalyDetection } from "../lambdas/adapters/anomaly-detection.js";
import { createNetworkOwnerResolver } from "../lambdas/adapters/anomaly-network-owner.js";
import { createCountryResolver } from "../lambdas/adapters/country-resolver.js";
import { createDocumentClient } from "../lambdas/adapters/dynamodb-client.js";
import { decodeSubscriptionEvent } from "../lambdas/adapters/log-subscription.js";
import { localTableNames } from "../lambdas/adapters/table-specs.js";
import { DEFAULT_THRESHOLDS } from "../lambdas/domain/anomaly/thresholds.js";
import { generateAccessLogs } from "../test/support/access-log-generator.js";
import { evaluate, printScore } from "./traffic-model/evaluate.js";
import { createTrafficModel, type TrafficModel } from "./traffic-model/traffic-model.js";

const DAYS = Number(process.env.BENCH_DAYS ?? 3);
const DB_MINUTES = Number(process.env.BENCH_DB_MINUTES ?? 120);

function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown cpu";
  return `${cpu} · ${cpus().length} cores · node ${process.version} · ${process.platform}/${process.arch}`;
}

/** One minute of the model as twelve 5-second CloudWatch Logs subscription events. */
function subscriptionEvents(lines: string[]): unknown[] {
  const events: unknown[] = [];
  for (let slice = 0; slice < 12; slice++) {
    const part = lines.slice(
      Math.floor((slice * lines.length) / 12),
      Math.floor(((slice + 1) * lines.length) / 12),
    );
    if (part.length === 0) continue;
    const json = JSON.stringify({
      messageType: "DATA_MESSAGE",
      logGroup: "api",
      logStream: "s",
      logEvents: part.map((message, i) => ({ id: String(i), timestamp: 0, message })),
    });
    events.push({ awslogs: { data: gzipSync(json).toString("base64") } });
  }
  return events;
}

/** The Lambda's path end to end: decode, parse, detect, DynamoDB Local state and anomaly writes. */
async function withDynamoDb(
  model: Pick<TrafficModel, "registry" | "minuteLines">,
  resolvers: Parameters<typeof evaluate>[1],
) {
  const dynamo = await startDynamoDbLocal();
  const client = createDocumentClient({ endpoint: dynamo.endpoint });
  try {
    const tables = localTableNames(`bench${Date.now()}`);
    await createTables(client, tables);
    const detection = createAnomalyDetection({
      client,
      tables,
      pepper: "bench-pepper",
      alerts: { publish: async () => {} },
      resolveCountry: resolvers.resolveCountry,
      resolveOwner: resolvers.resolveOwner,
      thresholds: DEFAULT_THRESHOLDS,
    });
    // Registered keys, as the registry holds them (the status lookup queries the byKeyId index).
    const { PutCommand } = await import("@aws-sdk/lib-dynamodb");
    for (const [keyId, entry] of model.registry) {
      await client.send(
        new PutCommand({
          TableName: tables.keys,
          Item: { keyHash: `${keyId}${"0".repeat(48)}`, keyId, ...entry },
        }),
      );
    }
    // Events prepared first: the clock measures the Lambda's work, not the model's.
    const minutes: unknown[][] = [];
    let lines = 0;
    const active = new Set<string>();
    for (let m = 0; m < DB_MINUTES; m++) {
      // Minutes past the model's end are simply empty.
      const minuteLines = model.minuteLines(m);
      lines += minuteLines.length;
      for (const line of minuteLines) {
        const keyId = /"keyId":"([0-9a-f]{16})"/.exec(line)?.[1];
        if (keyId && /"status":"?200/.test(line)) active.add(`${keyId}|${m}`);
      }
      minutes.push(subscriptionEvents(minuteLines));
    }
    const calls = new Map<string, { n: number; ms: number }>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const t0 = performance.now();
        try {
          return await next(args);
        } finally {
          const c = calls.get(context.commandName ?? "?") ?? { n: 0, ms: 0 };
          c.n++;
          c.ms += performance.now() - t0;
          calls.set(context.commandName ?? "?", c);
        }
      },
      { step: "initialize", name: "benchTiming" },
    );
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    const events = minutes.flat();
    for (const [i, event] of events.entries()) {
      const batch = detection.batch();
      for (const line of decodeSubscriptionEvent(event).lines) batch.addLine(line);
      await detection.detect(batch, { final: i === events.length - 1 });
    }
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(
      "DynamoDB calls:",
      [...calls].map(([name, c]) => `${name} ${c.n} (${Math.round(c.ms)} ms)`).join(", "),
    );
    return {
      lines,
      ms,
      cpuMs,
      writes: detection.writes.writes,
      activeKeyMinutes: active.size,
      events: events.length,
    };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

async function main() {
  console.log(`machine: ${machine()}`);
  const resolvers = {
    thresholds: DEFAULT_THRESHOLDS,
    resolveCountry: createCountryResolver(),
    resolveOwner: createNetworkOwnerResolver(),
  };
  for (const variant of ["tuning", "holdout"] as const) {
    const variants = (process.env.BENCH_VARIANTS ?? "tuning,holdout").split(",");
    if (process.env.BENCH_ONLY_DB || !variants.includes(variant)) continue;
    const model = createTrafficModel({ variant, days: DAYS });
    const run = await evaluate(model, resolvers);
    printScore(`${variant} (seed ${model.seed}, ${DAYS} days)`, run);
    console.log(
      `detect-only throughput: ${Math.round(run.lines / (run.cpuMs / 1000)).toLocaleString()} lines per CPU-second (includes generating the model); load average ${loadavg()[0]?.toFixed(1)}`,
    );
  }
  const report = (label: string, db: Awaited<ReturnType<typeof withDynamoDb>>) =>
    console.log(
      `\nwith DynamoDB Local, ${label} (${db.lines.toLocaleString()} lines in ${db.events} 5-second subscription events): ` +
        `${Math.round(db.lines / (db.ms / 1000)).toLocaleString()} lines/s end to end (${Math.round(db.lines / (db.cpuMs / 1000)).toLocaleString()} per CPU-second of the detector process; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores, DynamoDB Local on the same cores); ` +
        `${db.writes} writes over ${db.activeKeyMinutes.toLocaleString()} active key-minutes = ${(db.writes / db.activeKeyMinutes).toFixed(3)} per active key-minute`,
    );
  if (process.env.BENCH_SKIP_DB) return;
  report(
    `traffic model, ${DB_MINUTES} min`,
    await withDynamoDb(createTrafficModel({ variant: "holdout", seed: 5 }), resolvers),
  );
  // The dense stream the 4,200 lines/s figure was measured on (50 keys, ~1 M lines a day).
  const dense = generateAccessLogs({ seed: 44, rateScale: 4, hours: Math.ceil(DB_MINUTES / 60) });
  report(`dense stream (50 keys), ${DB_MINUTES} min`, await withDynamoDb(dense, resolvers));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
