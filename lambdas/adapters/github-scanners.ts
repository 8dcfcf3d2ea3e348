import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  buildSweepQueries,
  type SweepCounters,
  type SweepSettings,
  sweepCodeSearch,
} from "../domain/code-search-sweep.js";
import type { RecordFindings } from "../domain/finding.js";
import {
  DEFAULT_POLL_SETTINGS,
  type PollCounters,
  type PollSettings,
  pollEvents,
} from "../domain/poll-events.js";
import { createGitHubClient, webUrlFor } from "./github-client.js";
import { createGitHubCodeSearchApi } from "./github-code-search-api.js";
import { createGitHubEventsApi } from "./github-events-api.js";
import { createGitHubScanState } from "./github-scan-state.js";
import { createCodeSearchPacer, type PacerTiming } from "./request-pacer.js";

export interface GitHubScannerWiring {
  apiUrl: string;
  token?: string;
  client: DynamoDBDocumentClient;
  stateTable: string;
  recordFindings: RecordFindings;
  prefixes: readonly string[];
  now?: () => Date;
  timeoutMs?: number;
  /** Web base for links (default derived from apiUrl: github.com or the GHES host). */
  webUrl?: string;
}

/** Leaves time after the deadline for saving state and flushing metrics. */
const SAVE_MARGIN_MS = 5_000;

/**
 * One events-poll cycle, wired to GitHub and the state table: the same code the Lambda and the
 * local runner call. `run(deadline)` takes the epoch ms the run must end by.
 */
export function createEventsPollCycle(
  wiring: GitHubScannerWiring,
  overrides: Partial<Omit<PollSettings, "prefixes">> = {},
): { run(deadline: number): Promise<PollCounters & { httpRequests: number }> } {
  const client = createGitHubClient({
    baseUrl: wiring.apiUrl,
    ...(wiring.token ? { token: wiring.token } : {}),
    timeoutMs: wiring.timeoutMs ?? 10_000,
  });
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
  return {
    async run(deadline: number) {
      client.setDeadline(deadline - SAVE_MARGIN_MS);
      const before = client.stats.requests;
      const counters = await pollEvents(deps);
      return { ...counters, httpRequests: client.stats.requests - before };
    },
  };
}

/** One code-search sweep cycle; the 9/min pacer lives as long as the cycle (the Lambda's container). */
export function createCodeSearchSweepCycle(
  wiring: GitHubScannerWiring,
  overrides: Partial<Omit<SweepSettings, "prefixes">> = {},
  timing: PacerTiming = {},
): { run(deadline: number): Promise<SweepCounters & { httpRequests: number }> } {
  const client = createGitHubClient({
    baseUrl: wiring.apiUrl,
    ...(wiring.token ? { token: wiring.token } : {}),
    timeoutMs: wiring.timeoutMs ?? 10_000,
  });
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
  return {
    async run(runDeadline: number) {
      deadline = runDeadline - SAVE_MARGIN_MS;
      client.setDeadline(deadline);
      const before = client.stats.requests;
      const counters = await sweepCodeSearch(deps);
      return { ...counters, httpRequests: client.stats.requests - before };
    },
  };
}
