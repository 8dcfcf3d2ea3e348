import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SweepCounters } from "../domain/code-search-sweep.js";
import type { PollCounters } from "../domain/poll-events.js";

/** Namespace of every keywatch metric; the coverage-gap alarm reads `CoverageGaps` from it. */
export const METRICS_NAMESPACE = "keywatch";

/** The poller's counters as EMF metrics (one record per run). */
export function addPollMetrics(metrics: Metrics, counters: PollCounters & { httpRequests?: number }): void {
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count("EventsSeen", counters.eventsSeen);
  count("EventsScanned", counters.eventsScanned);
  count("EventsSkippedByBudget", counters.skippedByBudget);
  count("EventsMalformed", counters.malformed);
  count("EventsAlreadySeen", counters.alreadySeen);
  metrics.addMetric("BytesScanned", MetricUnit.Bytes, counters.bytesScanned);
  count("ApiCalls", counters.httpRequests ?? counters.apiCalls);
  count("NotModified", counters.notModified);
  count("CoverageGaps", counters.coverageGaps);
  count("PushesScanned", counters.pushesScanned);
  count("Findings", counters.findings);
  count("RunsStopped", counters.stopped ? 1 : 0);
  // Coverage: the alarms divide sums of these (pushes diffed / pushes seen, new / published events).
  count("EventsNew", counters.eventsNew);
  count("EventsPublished", counters.eventsPublished);
  count("PushesSeen", counters.pushesSeen);
  count("PushesDiffed", counters.pushesScanned);
  count("PushesUnreachable", counters.pushesUnreachable);
  count("PushesRetrying", counters.pushesRetrying);
  count("PushesGivenUp", counters.pushesGivenUp);
  count("PushesDropped", counters.pushesDropped);
  count("Backlog", counters.backlog);
  // Truncated compares (406 or over the caps) covered commit by commit.
  count("ComparesTruncated", counters.comparesTruncated);
  count("CommitDiffs", counters.commitDiffs);
  count("CommitsUnreachable", counters.commitsUnreachable);
  count("CommitsGivenUp", counters.commitsGivenUp);
  count("FallbackApiCalls", counters.fallbackApiCalls);
  count("FallbacksFinished", counters.fallbacksFinished);
  count("PushesResuming", counters.pushesResuming);
  addRunMetrics(metrics, counters);
}

/** Every scanner: runs skipped (placeholder token, overlapping run) and token rejections (alarmed). */
export function addRunMetrics(metrics: Metrics, counters: { skipped?: string; stopped?: string }): void {
  metrics.addMetric("RunsSkipped", MetricUnit.Count, counters.skipped ? 1 : 0);
  metrics.addMetric(
    "TokenRejected",
    MetricUnit.Count,
    counters.skipped === "token_placeholder" || counters.stopped === "unauthorized" ? 1 : 0,
  );
}

/** The sweep's counters as EMF metrics. */
export function addSweepMetrics(metrics: Metrics, counters: SweepCounters & { httpRequests?: number }): void {
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count("SearchRequests", counters.searchRequests);
  count("ApiCalls", counters.httpRequests ?? counters.searchRequests + counters.blobFetches);
  count("BlobFetches", counters.blobFetches);
  count("SearchResults", counters.results);
  count("ResultsBeyondCap", counters.beyondCap);
  count("NewLocations", counters.newLocations);
  metrics.addMetric("BytesScanned", MetricUnit.Bytes, counters.bytesScanned);
  count("Findings", counters.findings);
  count("BlobFailures", counters.blobFailures);
  count("RunsStopped", counters.stopped && counters.stopped !== "budget" ? 1 : 0);
  addRunMetrics(metrics, counters);
}

/** One progress line for the local runner, from the same counters. */
export function pollProgressLine(counters: PollCounters): string {
  if (counters.tooEarly) return "github events: waiting for X-Poll-Interval";
  if (counters.skipped) return `github events: run skipped (${counters.skipped})`;
  return (
    `github events: seen ${counters.eventsSeen}, scanned ${counters.eventsScanned}, ` +
    `pushes ${counters.pushesScanned}, deferred ${counters.skippedByBudget}, ${counters.notModified ? "304, " : ""}` +
    `api ${counters.apiCalls}, ${counters.bytesScanned} B, gaps ${counters.coverageGaps}, ` +
    `malformed ${counters.malformed}, unreachable ${counters.pushesUnreachable}, retrying ${counters.pushesRetrying}, ` +
    `backlog ${counters.backlog} (dropped ${counters.pushesDropped}), findings ${counters.findings}` +
    `${counters.stopped ? ` (stopped: ${counters.stopped})` : ""}`
  );
}

export function sweepProgressLine(counters: SweepCounters): string {
  return (
    `github code search: ${counters.searchRequests} searches, ${counters.results} results, ` +
    `${counters.newLocations} new locations, ${counters.blobFetches} blobs, findings ${counters.findings}` +
    `${counters.stopped ? ` (stopped: ${counters.stopped})` : ""}`
  );
}
