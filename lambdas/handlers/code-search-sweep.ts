import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { createCodeSearchSweepCycle } from "../adapters/github-scanners.js";
import { addSweepMetrics } from "../adapters/scan-metrics.js";
import { makeScheduledScanHandler, type ScanLogger, wireGitHubScanner } from "../adapters/scheduled-scan.js";
import type { SweepCounters } from "../domain/code-search-sweep.js";

export const CodeSearchSweepSettingsSchema = {
  SWEEP_MAX_SEARCH_REQUESTS: z.coerce.number().int().min(1).max(1000).default(120),
};

export interface CodeSearchSweepDeps {
  sweep(deadline: number): Promise<SweepCounters & { httpRequests: number }>;
  metrics: Metrics;
  logger: ScanLogger;
}

/** The scheduled code-search sweep: one sweep within the invocation's time, counters out as metrics. */
export function makeCodeSearchSweepHandler(deps: CodeSearchSweepDeps) {
  return makeScheduledScanHandler({
    ...deps,
    run: deps.sweep,
    addMetrics: addSweepMetrics,
    name: "code-search sweep",
  });
}

let cold: Promise<ReturnType<typeof makeCodeSearchSweepHandler>> | undefined;

async function wire() {
  const { wiring, settings, metrics, logger } = await wireGitHubScanner(
    "code-search-sweep",
    CodeSearchSweepSettingsSchema,
  );
  const cycle = createCodeSearchSweepCycle(wiring, { maxSearchRequests: settings.SWEEP_MAX_SEARCH_REQUESTS });
  return makeCodeSearchSweepHandler({ sweep: (deadline) => cycle.run(deadline), metrics, logger });
}

export async function handler(event: unknown, context: Context): Promise<SweepCounters> {
  cold ??= wire();
  return (await cold)(event, context);
}
