import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { createEventsPollCycle } from "../adapters/github-scanners.js";
import { addPollMetrics } from "../adapters/scan-metrics.js";
import { makeScheduledScanHandler, type ScanLogger, wireGitHubScanner } from "../adapters/scheduled-scan.js";
import type { PollCounters } from "../domain/poll-events.js";

export const EventsPollerSettingsSchema = {
  POLLER_MAX_API_CALLS: z.coerce.number().int().min(4).max(5000).default(56),
};

export interface EventsPollerDeps {
  poll(deadline: number): Promise<PollCounters & { httpRequests: number }>;
  metrics: Metrics;
  logger: ScanLogger;
}

/** The scheduled events poller: one poll within the invocation's time, counters out as metrics. */
export function makeEventsPollerHandler(deps: EventsPollerDeps) {
  return makeScheduledScanHandler({
    ...deps,
    run: deps.poll,
    addMetrics: addPollMetrics,
    name: "events poll",
  });
}

let cold: Promise<ReturnType<typeof makeEventsPollerHandler>> | undefined;

async function wire() {
  const { wiring, settings, metrics, logger } = await wireGitHubScanner(
    "events-poller",
    EventsPollerSettingsSchema,
  );
  const cycle = createEventsPollCycle(wiring, { maxApiCalls: settings.POLLER_MAX_API_CALLS });
  return makeEventsPollerHandler({ poll: (deadline) => cycle.run(deadline), metrics, logger });
}

export async function handler(event: unknown, context: Context): Promise<PollCounters> {
  cold ??= wire();
  return (await cold)(event, context);
}
