/**
 * Coverage of the events poller on GitHub's public feed at its real volume (the stand-in's firehose
 * mode: standin/github/github-firehose.ts): per scenario, 10 simulated minutes (BENCH_MINUTES) of 2,000-8,000
 * events a minute (85 % PushEvents with current payloads, diff failures injected), polled once a
 * minute by the real octokit client and the real state adapter on DynamoDB Local.
 *
 *   npm run bench:github            (npx tsx bench/github.bench.ts; needs Java for DynamoDB Local)
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
import type { RecordFindings } from "../lambdas/domain/finding.js";
import { DEFAULT_POLL_SETTINGS, type PollCounters, pollEvents } from "../lambdas/domain/poll-events.js";
import { createFirehose } from "../standin/github/github-firehose.js";
import { startGitHubStandIn } from "../standin/github/github-stand-in.js";

const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
/** GitHub cuts requests off at 10 s; the bench scales that time by 1/10 (1 s client timeout, 1.5 s slow answers). */
const TIMEOUT_MS = 1_000;
const SLOW_MS = 1_500;
const SCENARIOS = [
  { eventsPerMinute: 2_000, maxApiCalls: 60 },
  { eventsPerMinute: 4_000, maxApiCalls: 60 },
  { eventsPerMinute: 8_000, maxApiCalls: 60 },
];

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function run(scenario: (typeof SCENARIOS)[number], endpoint: string, index: number) {
  const client = createDocumentClient({ endpoint });
  const tables = localTableNames(`bench${index}${Date.now()}`);
  await createTables(client, tables);
  const firehose = createFirehose({
    seed: 42,
    eventsPerMinute: scenario.eventsPerMinute,
    plantEvery: 100,
    startMs: Date.now(),
  });
  const standIn = await startGitHubStandIn({ firehose, pollIntervalSeconds: 60, slowMs: SLOW_MS });
  const github = createGitHubClient({ baseUrl: standIn.url, token: "bench", timeoutMs: TIMEOUT_MS });
  github.setDeadline(Number.POSITIVE_INFINITY);
  // Simulated time (DynamoDB Local expires by TTL against real time, so it starts at now).
  let clock = firehose.now();
  const foundAt = new Map<string, number>();
  const record: RecordFindings = async (batch) => {
    for (const f of batch) if (!foundAt.has(f.keyHash)) foundAt.set(f.keyHash, clock);
    return batch.map((f) => ({
      keyHash: f.keyHash,
      status: "unknown",
      incidentId: "b",
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
  const sum: Record<string, number> = {};
  const unreachable: Record<string, number> = {};
  let last: PollCounters | undefined;
  const started = performance.now();
  for (let minute = 0; minute < MINUTES; minute++) {
    standIn.advance(60_000);
    clock = firehose.now();
    const counters = await pollEvents(deps);
    for (const [key, value] of Object.entries(counters)) {
      if (typeof value === "number") sum[key] = (sum[key] ?? 0) + value;
    }
    for (const [reason, n] of Object.entries(counters.unreachable))
      unreachable[reason] = (unreachable[reason] ?? 0) + n;
    last = counters;
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const pushesPublished = firehose.pushes.length;
  const simulatedHours = MINUTES / 60;
  const coreCalls = standIn.requests.filter(
    (r) => r.path === "/events" || r.path.startsWith("/repos/"),
  ).length;
  // The poller can only find a key in a push whose diff it requested.
  const plantedDiffed = firehose.planted.filter((p) => p.attempts > 0);
  const latencies = firehose.planted
    .map((p) => (foundAt.get(p.planted?.keyHash ?? "") ?? Number.NaN) - p.publishedAt)
    .filter((ms) => Number.isFinite(ms))
    .map((ms) => ms / 1000);
  await standIn.stop();
  client.destroy();
  return {
    scenario: `${scenario.eventsPerMinute} events/min, ${MINUTES} simulated minutes, budget ${scenario.maxApiCalls} calls/run`,
    eventsPublished: firehose.published(),
    eventsSeen: sum.eventsNew ?? 0,
    eventCoverage: +((sum.eventsNew ?? 0) / firehose.published()).toFixed(4),
    eventsPublishedIdSpanEstimate: sum.eventsPublished ?? 0,
    coverageGapPolls: sum.coverageGaps ?? 0,
    pushesPublished,
    pushesSeen: sum.pushesSeen ?? 0,
    pushesDiffed: sum.pushesScanned ?? 0,
    diffCoverageOfSeen: +((sum.pushesScanned ?? 0) / Math.max(sum.pushesSeen ?? 0, 1)).toFixed(4),
    diffCoverageOfPublished: +((sum.pushesScanned ?? 0) / pushesPublished).toFixed(4),
    unreachable,
    retrying: sum.pushesRetrying ?? 0,
    givenUp: sum.pushesGivenUp ?? 0,
    droppedFromBacklog: sum.pushesDropped ?? 0,
    backlogAtEnd: last?.backlog ?? 0,
    apiCallsPerHour: Math.round(coreCalls / simulatedHours),
    budgetPerHour: 5_000,
    plantedPublished: firehose.planted.length,
    plantedPushesDiffed: plantedDiffed.length,
    plantedFound: latencies.length,
    simulatedSecondsPushToFindingP50: Math.round(percentile(latencies, 50)),
    simulatedSecondsPushToFindingMax: Math.round(Math.max(...latencies, 0)),
    wallSeconds: +wallSeconds.toFixed(1),
  };
}

async function main() {
  const cpu = cpus();
  console.log(
    `machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}, load ${loadavg()[0]?.toFixed(1)}`,
  );
  const dynamo = await startDynamoDbLocal();
  try {
    for (const [i, scenario] of SCENARIOS.entries()) {
      console.log(JSON.stringify(await run(scenario, dynamo.endpoint, i), null, 2));
    }
  } finally {
    await dynamo.stop();
  }
}

await main();
