import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { WatchCounters } from "../domain/poll-watched-feeds.js";
import { addRunMetrics } from "./scan-metrics.js";

/** The watcher's counters as EMF metrics (service `github-watcher`); the alarms read these. */
export function addWatchMetrics(metrics: Metrics, counters: WatchCounters & { httpRequests?: number }): void {
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count("WatchTargets", counters.targets);
  count("FeedsPolled", counters.feedsPolled);
  count("FeedsNotModified", counters.feedsNotModified);
  count("FeedsUnreachable", counters.feedsUnreachable);
  count("FeedsRetrying", counters.feedsRetrying);
  count("FeedGaps", counters.feedGaps);
  count("EventsNew", counters.eventsNew);
  count("EventsScanned", counters.eventsScanned);
  // Coverage alarm: (diffed + unreachable) / seen over an hour.
  count("PushesSeen", counters.pushesSeen);
  count("PushesDiffed", counters.pushesDiffed);
  count("PushesUnreachable", counters.pushesUnreachable);
  count("PushesRetrying", counters.pushesRetrying);
  count("PushesGivenUp", counters.pushesGivenUp);
  count("PushesDropped", counters.pushesDropped);
  count("Backlog", counters.backlog);
  count("ApiCalls", counters.apiCalls);
  count("HttpRequests", counters.httpRequests ?? counters.apiCalls);
  metrics.addMetric("BytesScanned", MetricUnit.Bytes, counters.bytesScanned);
  count("Findings", counters.findings);
  count("RunsStopped", counters.stopped ? 1 : 0);
  // Lag alarm: a watched feed not read for this long.
  metrics.addMetric("OldestFeedAgeSeconds", MetricUnit.Seconds, counters.oldestFeedAgeSeconds);
  addRunMetrics(metrics, counters);
}

/** One progress line for the local runner. */
export function watchProgressLine(counters: WatchCounters): string {
  if (counters.skipped) return `github watcher: run skipped (${counters.skipped})`;
  return (
    `github watcher: ${counters.feedsPolled}/${counters.feeds} feeds read (${counters.feedsNotModified} 304), ` +
    `${counters.pushesDiffed}/${counters.pushesSeen} pushes diffed, api ${counters.apiCalls}, ` +
    `unreachable ${counters.pushesUnreachable + counters.feedsUnreachable}, retrying ${counters.pushesRetrying + counters.feedsRetrying}, ` +
    `backlog ${counters.backlog}, findings ${counters.findings}${counters.stopped ? ` (stopped: ${counters.stopped})` : ""}`
  );
}
