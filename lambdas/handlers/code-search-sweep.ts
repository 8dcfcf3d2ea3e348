import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { KeyPrefixesSchema, readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createDocumentClient } from "../adapters/dynamodb-client.js";
import { createFindingRecorder } from "../adapters/finding-recorder.js";
import { createCodeSearchSweepCycle } from "../adapters/github-scanners.js";
import { createLogger } from "../adapters/logger.js";
import { addSweepMetrics, METRICS_NAMESPACE } from "../adapters/scan-metrics.js";
import { ScheduledEventSchema } from "../adapters/scheduled-event.js";
import { readSecretString } from "../adapters/secret-string.js";
import type { SweepCounters } from "../domain/code-search-sweep.js";

export const CodeSearchSweepSettingsSchema = z.object({
  GITHUB_API_URL: z.string().url().default("https://api.github.com"),
  GITHUB_TOKEN_SECRET_ARN: z.string().startsWith("arn:"),
  KEY_PREFIXES: KeyPrefixesSchema,
  SWEEP_MAX_SEARCH_REQUESTS: z.coerce.number().int().min(1).max(1000).default(120),
});

export interface CodeSearchSweepDeps {
  sweep(deadline: number): Promise<SweepCounters & { httpRequests: number }>;
  metrics: Metrics;
  logger: { info(message: string, extra: Record<string, unknown>): void };
}

/** The scheduled code-search sweep: one sweep within the invocation's time, counters out as metrics. */
export function makeCodeSearchSweepHandler(deps: CodeSearchSweepDeps) {
  return async (
    event: unknown,
    context: Pick<Context, "getRemainingTimeInMillis">,
  ): Promise<SweepCounters> => {
    ScheduledEventSchema.parse(event);
    const counters = await deps.sweep(Date.now() + context.getRemainingTimeInMillis());
    addSweepMetrics(deps.metrics, counters);
    deps.metrics.publishStoredMetrics();
    deps.logger.info("code-search sweep done", { ...counters });
    return counters;
  };
}

let cold: Promise<ReturnType<typeof makeCodeSearchSweepHandler>> | undefined;

async function wire() {
  const settings = readEnv(CodeSearchSweepSettingsSchema);
  const tables = tableNamesFromEnv(["state", "keys", "incidents"]);
  const client = createDocumentClient();
  const token = await readSecretString(settings.GITHUB_TOKEN_SECRET_ARN);
  const cycle = createCodeSearchSweepCycle(
    {
      apiUrl: settings.GITHUB_API_URL,
      token,
      client,
      stateTable: tables.state,
      recordFindings: createFindingRecorder({ client, tables }),
      prefixes: settings.KEY_PREFIXES,
    },
    { maxSearchRequests: settings.SWEEP_MAX_SEARCH_REQUESTS },
  );
  return makeCodeSearchSweepHandler({
    sweep: (deadline) => cycle.run(deadline),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "code-search-sweep" }),
    logger: createLogger("code-search-sweep"),
  });
}

export async function handler(event: unknown, context: Context): Promise<SweepCounters> {
  cold ??= wire();
  return (await cold)(event, context);
}
