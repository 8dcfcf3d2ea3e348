import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  buildSweepQueries,
  emptySweepCounters,
  type SweepCounters,
  type SweepSettings,
  sweepCodeSearch,
} from "../domain/code-search-sweep.js";
import type { RecordFindings } from "../domain/finding.js";
import {
  DEFAULT_POLL_SETTINGS,
  emptyPollCounters,
  type PollCounters,
  type PollSettings,
  pollEvents,
} from "../domain/poll-events.js";
import { createGitHubClient, type GitHubClient, webUrlFor } from "./github-client.js";
import { createGitHubCodeSearchApi } from "./github-code-search-api.js";
import { createGitHubEventsApi } from "./github-events-api.js";
import { createGitHubScanState } from "./github-scan-state.js";
import { createCodeSearchPacer, type PacerTiming } from "./request-pacer.js";
import { recordScannerHealth, type ScannerHealth, type ScannerName } from "./scanner-health.js";

export interface GitHubScannerWiring {
  apiUrl: string;
  token?: string;
  /** The token secret still holds its generated placeholder: every run is skipped, loudly. */
  tokenIsPlaceholder?: boolean;
  client: DynamoDBDocumentClient;
  stateTable: string;
  recordFindings: RecordFindings;
  prefixes: readonly string[];
  now?: () => Date;
  timeoutMs?: number;
  /** Web base for links (default derived from apiUrl: github.com or the GHES host). */
  webUrl?: string;
  /** Told when the health item couldn't be written (the run's own result stands). */
  onHealthError?: (error: unknown) => void;
}

const PLACEHOLDER_DETAIL =
  "GitHub token secret still holds its generated placeholder: set a token (docs/github-scanners.md#secret)";
const UNAUTHORIZED_DETAIL = "GitHub rejected the token (401): replace it in the token secret";

/** The poller's run as the console's health panel shows it; undefined for a run that didn't start. */
export function pollHealth(counters: PollCounters, at: Date): ScannerHealth | undefined {
  const base = { scanner: "events_poller" as const, lastRunAt: at.toISOString() };
  if (counters.skipped === "token_placeholder") {
    return { ...base, outcome: "skipped", detail: PLACEHOLDER_DETAIL };
  }
  if (counters.skipped || counters.tooEarly) return undefined;
  if (counters.stopped === "unauthorized") return { ...base, outcome: "failed", detail: UNAUTHORIZED_DETAIL };
  const coverage = counters.pushesSeen > 0 ? Math.min(1, counters.pushesScanned / counters.pushesSeen) : 1;
  const degraded = counters.stopped !== undefined || counters.pushesDropped > 0 || coverage < 0.5;
  const published = counters.eventsPublished > 0 ? ` (≈${counters.eventsPublished} published)` : "";
  return {
    ...base,
    outcome: degraded ? "degraded" : "ok",
    coverage,
    backlog: counters.backlog,
    detail:
      `${counters.eventsNew} new events${published}, ${counters.pushesScanned} diffs for ${counters.pushesSeen} new pushes, ` +
      `${counters.pushesUnreachable} unreachable, ${counters.pushesDropped} dropped` +
      (counters.stopped ? `; stopped: ${counters.stopped}` : ""),
    counts: {
      eventsSeen: counters.eventsSeen,
      eventsNew: counters.eventsNew,
      eventsPublished: counters.eventsPublished,
      pushesSeen: counters.pushesSeen,
      pushesDiffed: counters.pushesScanned,
      pushesUnreachable: counters.pushesUnreachable,
      pushesRetrying: counters.pushesRetrying,
      pushesGivenUp: counters.pushesGivenUp,
      pushesDropped: counters.pushesDropped,
      apiCalls: counters.apiCalls,
      findings: counters.findings,
    },
  };
}

/** The sweep's run for the health panel; undefined for a run that didn't start. */
export function sweepHealth(counters: SweepCounters, at: Date): ScannerHealth | undefined {
  const base = { scanner: "code_search" as const, lastRunAt: at.toISOString() };
  if (counters.skipped === "token_placeholder") {
    return { ...base, outcome: "skipped", detail: PLACEHOLDER_DETAIL };
  }
  if (counters.skipped) return undefined;
  if (counters.stopped === "unauthorized") return { ...base, outcome: "failed", detail: UNAUTHORIZED_DETAIL };
  const degraded =
    (counters.stopped !== undefined && counters.stopped !== "budget") || counters.blobFailures > 0;
  return {
    ...base,
    outcome: degraded ? "degraded" : "ok",
    detail:
      `${counters.searchRequests} searches, ${counters.newLocations} new locations, ${counters.findings} findings` +
      (counters.stopped && counters.stopped !== "budget" ? `; stopped: ${counters.stopped}` : ""),
    counts: {
      searchRequests: counters.searchRequests,
      results: counters.results,
      newLocations: counters.newLocations,
      blobFetches: counters.blobFetches,
      blobFailures: counters.blobFailures,
      findings: counters.findings,
    },
  };
}

/**
 * A scheduled run around a scan: skipped when the token is the placeholder, skipped while another
 * run holds the lease (one run at a time, no reserved concurrency needed), health recorded after.
 */
async function leasedRun<C extends { skipped?: unknown }>(
  wiring: GitHubScannerWiring,
  scanner: ScannerName,
  deadline: number,
  empty: () => C,
  scan: () => Promise<C>,
  health: (counters: C, at: Date) => ScannerHealth | undefined,
): Promise<C> {
  const now = wiring.now ?? (() => new Date());
  const state = createGitHubScanState({ client: wiring.client, tableName: wiring.stateTable, now });
  let counters: C;
  if (wiring.tokenIsPlaceholder) {
    counters = { ...empty(), skipped: "token_placeholder" };
  } else {
    const lease = await state.acquireRunLease(scanner, deadline);
    if (!lease) return { ...empty(), skipped: "overlapping_run" };
    try {
      counters = await scan();
    } finally {
      await state.releaseRunLease(lease);
    }
  }
  const item = health(counters, now());
  if (item) {
    try {
      await recordScannerHealth(wiring.client, wiring.stateTable, item);
    } catch (error) {
      wiring.onHealthError?.(error);
    }
  }
  return counters;
}

/** Leaves time after the deadline for saving state and flushing metrics. */
const SAVE_MARGIN_MS = 5_000;

/** The GitHub client one scanner's cycle uses for as long as it lives (the Lambda's container). */
export function scannerClient(wiring: GitHubScannerWiring): GitHubClient {
  return createGitHubClient({
    baseUrl: wiring.apiUrl,
    ...(wiring.token ? { token: wiring.token } : {}),
    timeoutMs: wiring.timeoutMs ?? 10_000,
  });
}

/**
 * A scanner's cycle: each run holds the scanner's lease, gives the client the run's deadline (less
 * the margin to save state), records the run's health, and reports the HTTP requests it made.
 */
export function leasedCycle<C extends { skipped?: unknown }>(
  wiring: GitHubScannerWiring,
  client: GitHubClient,
  scanner: ScannerName,
  empty: () => C,
  scan: (deadline: number) => Promise<C>,
  health: (counters: C, at: Date) => ScannerHealth | undefined,
): { run(deadline: number): Promise<C & { httpRequests: number }> } {
  return {
    async run(runDeadline: number) {
      const before = client.stats.requests;
      const counters = await leasedRun(
        wiring,
        scanner,
        runDeadline,
        empty,
        () => {
          const deadline = runDeadline - SAVE_MARGIN_MS;
          client.setDeadline(deadline);
          return scan(deadline);
        },
        health,
      );
      return { ...counters, httpRequests: client.stats.requests - before };
    },
  };
}

/**
 * One events-poll cycle, wired to GitHub and the state table: the same code the Lambda and the
 * local runner call. `run(deadline)` takes the epoch ms the run must end by.
 */
export function createEventsPollCycle(
  wiring: GitHubScannerWiring,
  overrides: Partial<Omit<PollSettings, "prefixes">> = {},
): { run(deadline: number): Promise<PollCounters & { httpRequests: number }> } {
  const client = scannerClient(wiring);
  const now = wiring.now ?? (() => new Date());
  const deps = {
    api: createGitHubEventsApi(client),
    state: createGitHubScanState({ client: wiring.client, tableName: wiring.stateTable, now }),
    recordFindings: wiring.recordFindings,
    now,
    settings: {
      ...DEFAULT_POLL_SETTINGS,
      webUrl: wiring.webUrl ?? webUrlFor(wiring.apiUrl),
      ...overrides,
      prefixes: wiring.prefixes,
    },
  };
  return leasedCycle(wiring, client, "events_poller", emptyPollCounters, () => pollEvents(deps), pollHealth);
}

/** One code-search sweep cycle; the 9/min pacer lives as long as the cycle (the Lambda's container). */
export function createCodeSearchSweepCycle(
  wiring: GitHubScannerWiring,
  overrides: Partial<Omit<SweepSettings, "prefixes">> = {},
  timing: PacerTiming = {},
): { run(deadline: number): Promise<SweepCounters & { httpRequests: number }> } {
  const client = scannerClient(wiring);
  const pacer = createCodeSearchPacer(timing);
  let deadline = Number.POSITIVE_INFINITY;
  const now = wiring.now ?? (() => new Date());
  const deps = {
    api: createGitHubCodeSearchApi({ client, pacer, deadline: () => deadline }),
    state: createGitHubScanState({ client: wiring.client, tableName: wiring.stateTable, now }),
    recordFindings: wiring.recordFindings,
    now,
    settings: {
      queries: buildSweepQueries(wiring.prefixes),
      maxSearchRequests: 120,
      maxBlobFetches: 100,
      perPage: 100,
      ...overrides,
      prefixes: wiring.prefixes,
    },
  };
  return leasedCycle(
    wiring,
    client,
    "code_search",
    emptySweepCounters,
    (runDeadline) => {
      deadline = runDeadline;
      return sweepCodeSearch(deps);
    },
    sweepHealth,
  );
}
