import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { tableNamesFromEnv } from "../adapters/config.js";
import { createWatcherCycle } from "../adapters/github-watcher-cycle.js";
import { makeScheduledScanHandler, type ScanLogger, wireGitHubScanner } from "../adapters/scheduled-scan.js";
import { addWatchMetrics } from "../adapters/watch-metrics.js";
import type { WatchCounters } from "../domain/poll-watched-feeds.js";

export const GitHubWatcherSettingsSchema = {
  /** GitHub calls one run may make (a burst of pushes is diffed at once). */
  WATCHER_MAX_API_CALLS: z.coerce.number().int().min(2).max(5000).default(60),
  /** The watcher's share of GitHub's 5,000/h (docs/github-scanners.md "Watch lists"). */
  WATCHER_MAX_API_CALLS_PER_HOUR: z.coerce.number().int().min(2).max(5000).default(1200),
};

export interface GitHubWatcherDeps {
  watch(deadline: number): Promise<WatchCounters & { httpRequests: number }>;
  metrics: Metrics;
  logger: ScanLogger;
}

/** The scheduled watcher: one pass over the watched feeds within the invocation's time, counters out as metrics. */
export function makeGitHubWatcherHandler(deps: GitHubWatcherDeps) {
  return makeScheduledScanHandler({
    ...deps,
    run: deps.watch,
    addMetrics: addWatchMetrics,
    name: "watch-list poll",
  });
}

let cold: Promise<ReturnType<typeof makeGitHubWatcherHandler>> | undefined;

async function wire() {
  const { wiring, settings, metrics, logger } = await wireGitHubScanner(
    "github-watcher",
    GitHubWatcherSettingsSchema,
  );
  const { watchList } = tableNamesFromEnv(["watchList"]);
  const cycle = createWatcherCycle(
    { ...wiring, watchListTable: watchList },
    {
      maxApiCalls: settings.WATCHER_MAX_API_CALLS,
      maxApiCallsPerHour: settings.WATCHER_MAX_API_CALLS_PER_HOUR,
    },
  );
  return makeGitHubWatcherHandler({ watch: (deadline) => cycle.run(deadline), metrics, logger });
}

export async function handler(event: unknown, context: Context): Promise<WatchCounters> {
  cold ??= wire();
  return (await cold)(event, context);
}
