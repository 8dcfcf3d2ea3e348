/**
 * GitHub events poller against the stand-in: a recorded-shape stream of 10,000 events (~5% pushes
 * with diffs, keys planted in diffs, comments, releases), fed page by page as GitHub's feed would
 * advance, polled by the real octokit client and the real DynamoDB state (DynamoDB Local, in memory).
 *
 *   npm run bench:github            (npx tsx bench/github.bench.ts)
 */
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { createTables } from "../bin/local/create-tables.js";
import { startDynamoDbLocal } from "../bin/local/dynamodb-local.js";
import { createDocumentClient } from "../lambdas/adapters/dynamodb-client.js";
import { createGitHubClient } from "../lambdas/adapters/github-client.js";
import { createGitHubEventsApi } from "../lambdas/adapters/github-events-api.js";
import { createGitHubScanState } from "../lambdas/adapters/github-scan-state.js";
import { localTableNames } from "../lambdas/adapters/table-specs.js";
import type { Finding, RecordFindings } from "../lambdas/domain/finding.js";
import {
  DEFAULT_POLL_SETTINGS,
  emptyPollCounters,
  type PollCounters,
  pollEvents,
} from "../lambdas/domain/poll-events.js";
import { createRecordedShapeEventStream, startGitHubStandIn } from "../standin/github/github-stand-in.js";

const EVENTS = 10_000;
const PLANTED = 60;

interface Scenario {
  name: string;
  /** Events GitHub's feed advances by between two polls. */
  eventsPerPoll: number;
  maxApiCalls: number;
}

const SCENARIOS: Scenario[] = [
  { name: "feed +100/poll, budget 60 calls/run (default)", eventsPerPoll: 100, maxApiCalls: 60 },
  { name: "feed +250/poll, budget 8 calls/run (tight)", eventsPerPoll: 250, maxApiCalls: 8 },
  // The feed outruns the poller: events leave GitHub's 300-event window unseen (coverage gaps).
  { name: "feed +400/poll, budget 60 calls/run (falling behind)", eventsPerPoll: 400, maxApiCalls: 60 },
];

async function run(scenario: Scenario, endpoint: string, index: number) {
  const client = createDocumentClient({ endpoint });
  const tables = localTableNames(`bench${index}${Date.now()}`);
  await createTables(client, tables);
  const stream = createRecordedShapeEventStream({
    count: EVENTS,
    pushRatio: 0.05,
    plantedKeys: PLANTED,
    seed: 42,
  });
  const standIn = await startGitHubStandIn({ stream, pollIntervalSeconds: 60 });
  const github = createGitHubClient({ baseUrl: standIn.url, token: "bench", retryBaseMs: 50 });
  github.setDeadline(Number.POSITIVE_INFINITY);
  // Real time: DynamoDB Local expires items by TTL, and the seen set must outlive the run.
  let clock = Date.now();
  const found: Finding[] = [];
  const record: RecordFindings = async (batch) => {
    found.push(...batch);
    return batch.map((f) => ({
      keyHash: f.keyHash,
      status: "unknown",
      incidentId: "bench",
      newOccurrence: true,
    }));
  };
  const deps = {
    api: createGitHubEventsApi(github),
    state: createGitHubScanState({ client, tableName: tables.state, now: () => new Date(clock) }),
    recordFindings: record,
    now: () => new Date(clock),
    settings: { ...DEFAULT_POLL_SETTINGS, prefixes: ["smk_"], maxApiCalls: scenario.maxApiCalls },
  };
  const totals = emptyPollCounters();
  const add = (c: PollCounters) => {
    for (const key of Object.keys(totals) as (keyof PollCounters)[]) {
      if (typeof totals[key] === "number") (totals[key] as number) += c[key] as number;
    }
  };
  let polls = 0;
  let drainPolls = 0;
  const started = performance.now();
  while (standIn.publish(scenario.eventsPerPoll) > 0) {
    add(await pollEvents(deps));
    polls++;
    clock += 61_000;
  }
  const feedMs = performance.now() - started;
  // The feed is quiet now: later runs work through the backlog of deferred pushes.
  for (let i = 0; i < 200; i++) {
    const c = await pollEvents(deps);
    add(c);
    drainPolls++;
    clock += 61_000;
    if (c.pushesScanned === 0 && c.skippedByBudget === 0) break;
  }
  const totalMs = performance.now() - started;
  const diffCalls = standIn.count(/\/(compare|commits)\//);
  const plantedHashes = new Set(stream.planted.map((p) => p.keyHash));
  const foundHashes = new Set(found.map((f) => f.keyHash).filter((h) => plantedHashes.has(h)));
  const pushes = stream.events.filter((e) => e.type === "PushEvent").length;
  await standIn.stop();
  client.destroy();
  return {
    scenario: scenario.name,
    polls,
    drainPolls,
    /** Stream events per second of the run (when the feed outruns the poller, some were never seen). */
    streamEventsPerSecond: Math.round(EVENTS / (totalMs / 1000)),
    /** Events read from /events per second, overlapping re-reads included. */
    eventsFetchedPerSecond: Math.round(totals.eventsSeen / (totalMs / 1000)),
    /** Events read from /events pages, overlapping pages included. */
    eventsFetched: totals.eventsSeen,
    pushes,
    pushesScanned: totals.pushesScanned,
    diffCallsPerScannedPush: +(diffCalls / Math.max(totals.pushesScanned, 1)).toFixed(3),
    httpRequests: github.stats.requests,
    notModified: totals.notModified,
    coverageGaps: totals.coverageGaps,
    deferredByBudget: totals.skippedByBudget,
    diffsTruncated: totals.diffsTruncated,
    bytesScannedPerSecond: Math.round(totals.bytesScanned / (totalMs / 1000)),
    mbScanned: +(totals.bytesScanned / 1e6).toFixed(1),
    recall: +(foundHashes.size / plantedHashes.size).toFixed(3),
    planted: plantedHashes.size,
    feedSeconds: +(feedMs / 1000).toFixed(1),
    totalSeconds: +(totalMs / 1000).toFixed(1),
  };
}

async function main() {
  const cpu = cpus();
  console.log(
    `machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}, load ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log(
    `stream: ${EVENTS} events, ~5% pushes, ${PLANTED} planted keys (push diffs, issue/commit/review comments, issues, releases)`,
  );
  const dynamo = await startDynamoDbLocal();
  try {
    for (const [i, scenario] of SCENARIOS.entries()) {
      const result = await run(scenario, dynamo.endpoint, i);
      console.log(JSON.stringify(result, null, 2));
    }
  } finally {
    await dynamo.stop();
  }
}

await main();
