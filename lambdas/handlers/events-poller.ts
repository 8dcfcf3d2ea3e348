import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { KeyPrefixesSchema, readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createDocumentClient } from "../adapters/dynamodb-client.js";
import { createFindingRecorder } from "../adapters/finding-recorder.js";
import { createEventsPollCycle } from "../adapters/github-scanners.js";
import { createLogger } from "../adapters/logger.js";
import { addPollMetrics, METRICS_NAMESPACE } from "../adapters/scan-metrics.js";
import { ScheduledEventSchema } from "../adapters/scheduled-event.js";
import { readSecretString } from "../adapters/secret-string.js";
import type { PollCounters } from "../domain/poll-events.js";

export const EventsPollerSettingsSchema = z.object({
  GITHUB_API_URL: z.string().url().default("https://api.github.com"),
  /** ARN of the secret holding the token: the value is read at run time, never put in the template. */
  GITHUB_TOKEN_SECRET_ARN: z.string().startsWith("arn:"),
  KEY_PREFIXES: KeyPrefixesSchema,
  POLLER_MAX_API_CALLS: z.coerce.number().int().min(4).max(5000).default(60),
});

export interface EventsPollerDeps {
  poll(deadline: number): Promise<PollCounters & { httpRequests: number }>;
  metrics: Metrics;
  logger: { info(message: string, extra: Record<string, unknown>): void };
}

/** The scheduled events poller: one poll within the invocation's time, counters out as metrics. */
export function makeEventsPollerHandler(deps: EventsPollerDeps) {
  return async (
    event: unknown,
    context: Pick<Context, "getRemainingTimeInMillis">,
  ): Promise<PollCounters> => {
    ScheduledEventSchema.parse(event);
    const counters = await deps.poll(Date.now() + context.getRemainingTimeInMillis());
    addPollMetrics(deps.metrics, counters);
    deps.metrics.publishStoredMetrics();
    deps.logger.info("events poll done", { ...counters });
    return counters;
  };
}

let cold: Promise<ReturnType<typeof makeEventsPollerHandler>> | undefined;

async function wire() {
  const settings = readEnv(EventsPollerSettingsSchema);
  const tables = tableNamesFromEnv(["state", "keys", "incidents"]);
  const client = createDocumentClient();
  const token = await readSecretString(settings.GITHUB_TOKEN_SECRET_ARN);
  const cycle = createEventsPollCycle(
    {
      apiUrl: settings.GITHUB_API_URL,
      token,
      client,
      stateTable: tables.state,
      recordFindings: createFindingRecorder({ client, tables }),
      prefixes: settings.KEY_PREFIXES,
    },
    { maxApiCalls: settings.POLLER_MAX_API_CALLS },
  );
  return makeEventsPollerHandler({
    poll: (deadline) => cycle.run(deadline),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "events-poller" }),
    logger: createLogger("events-poller"),
  });
}

export async function handler(event: unknown, context: Context): Promise<PollCounters> {
  cold ??= wire();
  return (await cold)(event, context);
}
