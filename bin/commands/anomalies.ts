import { parseArgs } from "node:util";
import { createAnomalyRepository } from "../../lambdas/adapters/anomaly-repository.js";
import { AnomalyTypeSchema } from "../../lambdas/domain/anomaly/anomaly.js";
import { readLocalSettings } from "../local/settings.js";
import { parseOrUsage, withLocalTables } from "./command-frame.js";

const USAGE = "usage: keywatch anomalies list [--json] [--days N] [--key KEYID] [--type TYPE]";

/** `keywatch anomalies list [--json]`: recorded anomalies, newest days first (default: the last 7 days). */
export async function run(args: string[]): Promise<number> {
  const options = parseOrUsage("anomalies", USAGE, parse, args);
  if (!options) return 2;
  return withLocalTables(readLocalSettings(), async (env) => {
    const repository = createAnomalyRepository(env.client, env.tables.anomalies);
    const to = new Date(Date.now() + 60_000);
    const from = new Date(to.getTime() - options.days * 86_400_000);
    const anomalies = options.keyId
      ? await repository.listByKey(options.keyId, { limit: 1_000 })
      : await repository.listByTime({
          from,
          to,
          limit: 10_000,
          ...(options.type ? { type: options.type } : {}),
        });
    if (options.json) {
      for (const anomaly of anomalies) process.stdout.write(`${JSON.stringify(anomaly)}\n`);
    } else {
      for (const a of anomalies) {
        const where = [a.keyId ? `key ${a.keyId}` : "", a.ipPrefix ?? "", a.countries?.join(",") ?? ""]
          .filter(Boolean)
          .join(" ");
        const incident = a.incidentId ? ` incident ${a.incidentId}` : "";
        process.stdout.write(
          `${a.windowStart}  ${a.severity.padEnd(6)} ${a.type.padEnd(19)} ${where} ×${a.count}${incident}\n`,
        );
      }
      if (anomalies.length === 0) process.stdout.write("no anomalies\n");
    }
    return 0;
  });
}

function parse(args: string[]) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      days: { type: "string" },
      key: { type: "string" },
      type: { type: "string" },
    },
  });
  if (positionals[0] !== "list" || positionals.length !== 1) throw new Error("expected `list`");
  const days = Number(values.days ?? 7);
  if (!Number.isFinite(days) || days <= 0 || days > 400) throw new Error("--days must be between 1 and 400");
  if (values.key !== undefined && !/^[0-9a-f]{16}$/.test(values.key))
    throw new Error("--key must be a 16-hex keyId");
  const type = values.type === undefined ? undefined : AnomalyTypeSchema.parse(values.type);
  return { json: values.json ?? false, days, keyId: values.key, type };
}
