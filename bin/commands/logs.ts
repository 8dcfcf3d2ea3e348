import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createOutboxAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import {
  AnomalyThresholdsEnvSchema,
  createAnomalyDetection,
} from "../../lambdas/adapters/anomaly-detection.js";
import { createNetworkOwnerResolver } from "../../lambdas/adapters/anomaly-network-owner.js";
import { readEnv } from "../../lambdas/adapters/config.js";
import { createCountryResolver } from "../../lambdas/adapters/country-resolver.js";
import { homePaths, readLocalSettings } from "../local/settings.js";
import { parseOrUsage, withLocalTables } from "./command-frame.js";

const USAGE = "usage: keywatch logs ingest [FILE|-] [--batch-lines N]";

/**
 * `keywatch logs ingest [FILE|-]`: access-log JSON lines or CloudWatch Logs subscription events
 * (one per line) through the Lambda's detector code and DynamoDB state; each anomaly episode
 * opened or changed is printed as a JSON line, a summary goes to stderr. Bad lines are counted,
 * never fatal.
 */
export async function run(args: string[]): Promise<number> {
  const options = parseOrUsage("logs", USAGE, parse, args);
  if (!options) return 2;
  if (options.source !== "-" && !existsSync(options.source)) {
    process.stderr.write(`keywatch logs: no such file: ${options.source}\n`);
    return 2;
  }
  const thresholds = readEnv(AnomalyThresholdsEnvSchema).ANOMALY_THRESHOLDS;
  const settings = readLocalSettings();
  return withLocalTables(settings, async (env) => {
    const detection = createAnomalyDetection({
      client: env.client,
      tables: env.tables,
      pepper: env.secrets.ipPepper,
      alerts: createOutboxAlertPublisher(homePaths(settings.home).outbox),
      resolveCountry: createCountryResolver(),
      resolveOwner: createNetworkOwnerResolver(),
      thresholds,
    });
    const input = options.source === "-" ? process.stdin : createReadStream(options.source);
    const totals = { lines: 0, accepted: 0, skipped: 0, anomalies: 0, alerts: 0, malformedEvents: 0 };
    let batch = detection.batch();
    let inBatch = 0;
    const flush = async (final = false) => {
      // The last batch closes every open minute and writes all state: a CLI run has no "later".
      const result = await detection.detect(batch, { final });
      for (const anomaly of result.anomalies) process.stdout.write(`${JSON.stringify(anomaly)}\n`);
      totals.accepted += result.accepted;
      totals.skipped += batch.skippedTotal;
      totals.anomalies += result.anomalies.length;
      totals.alerts += result.alertsPublished;
      batch = detection.batch();
      inBatch = 0;
    };
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (line.trim() === "") continue;
      totals.lines++;
      if (detection.addInputLine(batch, line) === "malformed_event") totals.malformedEvents++;
      if (++inBatch >= options.batchLines) await flush();
    }
    await flush(true);
    process.stderr.write(
      `keywatch logs: ${JSON.stringify({ ...totals, writes: detection.writes.writes })}\n`,
    );
    return 0;
  });
}

function parse(args: string[]) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { "batch-lines": { type: "string" } },
  });
  if (positionals[0] !== "ingest" || positionals.length > 2) throw new Error("expected `ingest [FILE|-]`");
  const batchLines = Number(values["batch-lines"] ?? 10_000);
  if (!Number.isSafeInteger(batchLines) || batchLines < 1)
    throw new Error("--batch-lines must be a positive integer");
  return { source: positionals[1] ?? "-", batchLines };
}
