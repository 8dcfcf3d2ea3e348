/**
 * Anomaly detection benchmark: 1,000,000 access-log events (50 keys, 24 h, injected attacks)
 * as CloudWatch Logs subscription events through decode + parse + detect, single-threaded;
 * then a smaller run with the real DynamoDB adapters against DynamoDB Local.
 * Run: npm run bench:anomaly
 */
import { cpus, loadavg } from "node:os";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import { createTables } from "../bin/local/create-tables.js";
import { startDynamoDbLocal } from "../bin/local/dynamodb-local.js";
import { createAnomalyDetection } from "../lambdas/adapters/anomaly-detection.js";
import { createDocumentClient } from "../lambdas/adapters/dynamodb-client.js";
import { InMemoryAnomalyState } from "../lambdas/adapters/in-memory-anomaly-state.js";
import { decodeSubscriptionEvent } from "../lambdas/adapters/log-subscription.js";
import { localTableNames } from "../lambdas/adapters/table-specs.js";
import { parseAccessLogLine } from "../lambdas/domain/access-log.js";
import type { Anomaly } from "../lambdas/domain/anomaly/anomaly.js";
import { detectAnomalies } from "../lambdas/domain/anomaly/detect-anomalies.js";
import { DEFAULT_THRESHOLDS } from "../lambdas/domain/anomaly/thresholds.js";
import { TrafficBatch } from "../lambdas/domain/anomaly/traffic-batch.js";
import { hmacSha256Hex } from "../lambdas/domain/ip-prefix.js";
import {
  type AccessLogStream,
  generateAccessLogs,
  scoreDetection,
} from "../test/support/access-log-generator.js";

const TARGET_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const LINES_PER_EVENT = 5_000;

function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown cpu";
  return `${cpu} · ${cpus().length} cores · node ${process.version} · ${process.platform}/${process.arch}`;
}

/** The stream as subscription events of ≤5,000 lines, one event per (up to) 5-minute slice. */
function encode(stream: AccessLogStream): { events: unknown[]; lines: number; bytes: number } {
  const events: unknown[] = [];
  let lines = 0;
  let bytes = 0;
  let pending: { id: string; timestamp: number; message: string }[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const json = JSON.stringify({
      messageType: "DATA_MESSAGE",
      logGroup: "api",
      logStream: "s",
      logEvents: pending,
    });
    events.push({ awslogs: { data: gzipSync(json).toString("base64") } });
    pending = [];
  };
  for (let m = 0; m < stream.minutes; m++) {
    for (const message of stream.minuteLines(m)) {
      pending.push({ id: String(lines), timestamp: 0, message });
      lines++;
      bytes += message.length;
      if (pending.length >= LINES_PER_EVENT) flush();
    }
    if (m % 5 === 4) flush();
  }
  flush();
  return { events, lines, bytes };
}

const registryLookup = (stream: AccessLogStream) => async (ids: readonly string[]) =>
  new Map(
    ids.flatMap((id) => {
      const status = stream.registry.get(id);
      return status ? [[id, status] as const] : [];
    }),
  );

async function detectOnly(stream: AccessLogStream, events: unknown[]) {
  const state = new InMemoryAnomalyState();
  const anomalies: Anomaly[] = [];
  const pseudonyms = new Map<string, string>();
  const pseudonym = (cidr: string) => {
    let id = pseudonyms.get(cidr);
    if (!id) {
      id = hmacSha256Hex("bench-pepper", cidr).slice(0, 32);
      pseudonyms.set(cidr, id);
    }
    return id;
  };
  const keyStatus = registryLookup(stream);
  let decodeMs = 0;
  let accepted = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (const event of events) {
    const t0 = performance.now();
    const { lines } = decodeSubscriptionEvent(event);
    decodeMs += performance.now() - t0;
    const batch = new TrafficBatch(DEFAULT_THRESHOLDS, () => undefined);
    for (const line of lines) batch.addLine(line);
    const result = await detectAnomalies(batch, {
      state,
      anomalies: state,
      alertGate: state,
      alerts: state,
      keyStatus,
      thresholds: DEFAULT_THRESHOLDS,
      pseudonym,
    });
    accepted += result.accepted;
    anomalies.push(...result.anomalies);
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  // CPU time of this process: on a shared, oversubscribed machine wall time understates a core.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { ms, cpuMs, decodeMs, accepted, anomalies, alerts: state.published.length };
}

/** The same shape check as parseAccessLogLine, as a zod schema: measured to choose the hot-path parser. */
const ZodLine = z.object({
  time: z.coerce.number().int(),
  ip: z.string().regex(/^[0-9A-Fa-f:.%]{2,64}$/),
  status: z.union([z.number(), z.string()]).optional(),
  keyId: z.string().optional(),
  projectId: z.string().max(128).optional(),
  country: z.string().optional(),
});

function parserComparison(lines: string[]) {
  const time = (fn: (line: string) => unknown) => {
    const t0 = performance.now();
    for (const line of lines) fn(line);
    return lines.length / ((performance.now() - t0) / 1000);
  };
  time(parseAccessLogLine);
  time((l) => ZodLine.safeParse(JSON.parse(l)));
  return {
    handChecked: time(parseAccessLogLine),
    zod: time((l) => ZodLine.safeParse(JSON.parse(l))),
    jsonParseOnly: time((l) => JSON.parse(l)),
  };
}

async function withDynamoDb(stream: AccessLogStream) {
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
      resolveCountry: () => undefined,
      thresholds: DEFAULT_THRESHOLDS,
    });
    let events = 0;
    let keyMinutes = 0;
    const start = performance.now();
    for (let from = 0; from < stream.minutes; from += 5) {
      const batch = detection.batch();
      for (let m = from; m < from + 5; m++) for (const line of stream.minuteLines(m)) batch.addLine(line);
      events += batch.accepted;
      for (const key of batch.keys.values()) if (key.accepted > 0) keyMinutes += key.minutes.size;
      await detection.detect(batch);
    }
    return { events, keyMinutes, writes: detection.writes.writes, ms: performance.now() - start };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

async function main() {
  console.log(`machine: ${machine()}`);
  const rateScale = TARGET_EVENTS / 242_000;
  const stream = generateAccessLogs({ seed: 42, rateScale });
  const { events, lines, bytes } = encode(stream);
  console.log(
    `input: ${lines.toLocaleString()} events in ${events.length} subscription events, avg line ${Math.round(bytes / lines)} B`,
  );

  const run = await detectOnly(stream, events);
  const perSecond = lines / (run.ms / 1000);
  console.log(`load average (1 min) during the run: ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`);
  console.log(
    `decode+parse+detect per CPU-second: ${Math.round(lines / (run.cpuMs / 1000)).toLocaleString()} events/s (CPU ${(run.cpuMs / 1000).toFixed(2)} s)`,
  );
  console.log(
    `decode+parse+detect: ${(run.ms / 1000).toFixed(2)} s → ${Math.round(perSecond).toLocaleString()} events/s on one core (decode ${(run.decodeMs / 1000).toFixed(2)} s); ${run.anomalies.length} anomalies, ${run.alerts} alerts`,
  );

  const sample: string[] = [];
  for (let m = 600; sample.length < 200_000; m++) sample.push(...stream.minuteLines(m));
  const parsers = parserComparison(sample);
  console.log(
    `line parser (events/s): hand-checked ${Math.round(parsers.handChecked).toLocaleString()} · zod ${Math.round(parsers.zod).toLocaleString()} · JSON.parse alone ${Math.round(parsers.jsonParseOnly).toLocaleString()}`,
  );

  console.log("\ndetection (1M-event run):");
  console.table(
    scoreDetection(stream.attacks, run.anomalies, stream.start).map((r) => ({
      type: r.type,
      injected: r.injected,
      found: r.found,
      anomalies: r.raised,
      precision: r.precision.toFixed(3),
      recall: r.recall.toFixed(3),
    })),
  );
  const clean = generateAccessLogs({ seed: 43, rateScale, attacks: false });
  const cleanRun = await detectOnly(clean, encode(clean).events);
  const cleanHigh = cleanRun.anomalies.filter((a) => a.severity === "high").length;
  console.log(
    `clean stream: ${cleanRun.anomalies.length} anomalies, ${cleanHigh} high, ${cleanRun.alerts} alerts`,
  );

  const small = generateAccessLogs({ seed: 44, hours: Number(process.env.BENCH_DB_HOURS ?? 3) });
  const db = await withDynamoDb(small);
  console.log(
    `\nwith DynamoDB Local (${small.minutes / 60} h, ${db.events.toLocaleString()} events, 5-min batches): ${db.writes} writes = ${((db.writes / db.events) * 1000).toFixed(2)} per 1,000 events; ${db.keyMinutes} active key-minutes → ${(db.writes / db.keyMinutes).toFixed(3)} writes per key-minute; ${Math.round(db.events / (db.ms / 1000)).toLocaleString()} events/s end to end`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
