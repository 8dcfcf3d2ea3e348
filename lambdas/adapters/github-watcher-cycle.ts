import {
  DEFAULT_WATCH_SETTINGS,
  emptyWatchCounters,
  pollWatchedFeeds,
  type WatchCounters,
  type WatchSettings,
} from "../domain/poll-watched-feeds.js";
import { webUrlFor } from "./github-client.js";
import { createGitHubScanState } from "./github-scan-state.js";
import { type GitHubScannerWiring, leasedCycle, scannerClient } from "./github-scanners.js";
import { createGitHubWatchApi } from "./github-watch-api.js";
import type { ScannerHealth } from "./scanner-health.js";
import { createWatchListStore } from "./watch-list-store.js";

/** The watcher's claims and backlog in the state table, apart from the poller's (`POLLER#...`). */
export const WATCHER_NAMESPACE = "WATCHER";

/** Watched pushes diffed (or found unreachable) per push seen, below which a run is degraded. */
const DEGRADED_BELOW = 0.99;

/** The watcher's run for the console's health panel; undefined for a run that didn't start. */
export function watchHealth(counters: WatchCounters, at: Date): ScannerHealth | undefined {
  const base = { scanner: "watcher" as const, lastRunAt: at.toISOString() };
  if (counters.skipped === "token_placeholder") {
    return {
      ...base,
      outcome: "skipped",
      detail:
        "GitHub token secret still holds its generated placeholder: set a token (docs/github-scanners.md#secret)",
    };
  }
  if (counters.skipped) return undefined;
  if (counters.stopped === "unauthorized") {
    return {
      ...base,
      outcome: "failed",
      detail: "GitHub rejected the token (401): replace it in the token secret",
    };
  }
  const handled = counters.pushesDiffed + counters.pushesUnreachable;
  const coverage = counters.pushesSeen > 0 ? Math.min(1, handled / counters.pushesSeen) : 1;
  const degraded =
    counters.stopped !== undefined ||
    coverage < DEGRADED_BELOW ||
    counters.feedsUnreachable + counters.feedsRetrying + counters.feedGaps + counters.pushesDropped > 0;
  return {
    ...base,
    outcome: degraded ? "degraded" : "ok",
    coverage,
    backlog: counters.backlog,
    detail:
      `${counters.targets} targets in ${counters.feeds} feeds: ${counters.feedsPolled} read (${counters.feedsNotModified} unchanged), ` +
      `${counters.feedsUnreachable} unreachable, ${counters.feedsRetrying} retrying; ${counters.pushesDiffed} diffs for ` +
      `${counters.pushesSeen} new pushes, oldest feed ${counters.oldestFeedAgeSeconds} s` +
      (counters.stopped ? `; stopped: ${counters.stopped}` : ""),
    counts: {
      targets: counters.targets,
      feeds: counters.feeds,
      feedsPolled: counters.feedsPolled,
      feedsNotModified: counters.feedsNotModified,
      feedsUnreachable: counters.feedsUnreachable,
      feedsRetrying: counters.feedsRetrying,
      feedGaps: counters.feedGaps,
      pushesSeen: counters.pushesSeen,
      pushesDiffed: counters.pushesDiffed,
      pushesUnreachable: counters.pushesUnreachable,
      pushesRetrying: counters.pushesRetrying,
      pushesGivenUp: counters.pushesGivenUp,
      apiCalls: counters.apiCalls,
      findings: counters.findings,
    },
  };
}

/**
 * One watcher cycle, wired to GitHub, the watch-list table and the state table: the same code the
 * Lambda and the local runner call; `run(deadline)` takes the epoch ms the run must end by.
 */
export function createWatcherCycle(
  wiring: GitHubScannerWiring & { watchListTable: string },
  overrides: Partial<Omit<WatchSettings, "prefixes">> = {},
): { run(deadline: number): Promise<WatchCounters & { httpRequests: number }> } {
  const client = scannerClient(wiring);
  const now = wiring.now ?? (() => new Date());
  const deps = {
    api: createGitHubWatchApi(client),
    store: createWatchListStore({ client: wiring.client, tableName: wiring.watchListTable }),
    state: createGitHubScanState({
      client: wiring.client,
      tableName: wiring.stateTable,
      now,
      namespace: WATCHER_NAMESPACE,
    }),
    recordFindings: wiring.recordFindings,
    now,
    settings: {
      ...DEFAULT_WATCH_SETTINGS,
      webUrl: wiring.webUrl ?? webUrlFor(wiring.apiUrl),
      ...overrides,
      prefixes: wiring.prefixes,
    },
  };
  return leasedCycle(
    wiring,
    client,
    "watcher",
    emptyWatchCounters,
    () => pollWatchedFeeds(deps),
    watchHealth,
  );
}
