/**
 * Coverage of the events poller on GitHub's public feed at its real volume (the stand-in's firehose
 * mode: standin/github/github-firehose.ts): per scenario, 10 simulated minutes (BENCH_MINUTES) of 2,000-8,000
 * events a minute (85 % PushEvents with current payloads, diff failures injected), polled once a
 * minute by the real octokit client and the real state adapter on DynamoDB Local.
 *
 * Planted push → owner's email: the planted keys are issued to owners first (Keys table), the poller
 * records through the real leak-response use case (createFindingRecorder), and the local runner's
 * notifier path (incidents stream pump + notifier + outbox email sender) writes the email. Reported:
 * publish → finding in simulated seconds (the poller's share: poll interval, backlog), finding
 * recorded → email written in wall seconds (the notifier's share, real time in both worlds), and their
 * sum. Truncated compares (406 / over caps) and the commit fallback are counted per scenario.
 *
 *   npm run bench:github            (npx tsx bench/github.bench.ts; needs Java for DynamoDB Local)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createTables } from "../bin/local/create-tables.js";
import { startDynamoDbLocal } from "../bin/local/dynamodb-local.js";
import { startStreamPump } from "../bin/local/stream-pump.js";
import { createOutboxAlertPublisher } from "../lambdas/adapters/alert-publisher.js";
import { createDocumentClient } from "../lambdas/adapters/dynamodb-client.js";
import { createKeyRepository } from "../lambdas/adapters/dynamodb-key-repository.js";
import { createOutboxEmailSender } from "../lambdas/adapters/email-sender.js";
import { createFindingRecorder } from "../lambdas/adapters/finding-recorder.js";
import { createGitHubClient } from "../lambdas/adapters/github-client.js";
import { createGitHubEventsApi } from "../lambdas/adapters/github-events-api.js";
import { createGitHubScanState } from "../lambdas/adapters/github-scan-state.js";
import { NOTIFIER_STREAM_FILTERS } from "../lambdas/adapters/notifier-stream-filter.js";
import { localTableNames } from "../lambdas/adapters/table-specs.js";
import type { RecordFindings } from "../lambdas/domain/finding.js";
import { incidentIdFor } from "../lambdas/domain/incident.js";
import { issueKey } from "../lambdas/domain/issue-key.js";
import { keyHash } from "../lambdas/domain/key-format.js";
import { DEFAULT_POLL_SETTINGS, type PollCounters, pollEvents } from "../lambdas/domain/poll-events.js";
import { makeNotifierHandler, notifierDeps } from "../lambdas/handlers/notifier.js";
import { createFirehose } from "../standin/github/github-firehose.js";
import { startGitHubStandIn } from "../standin/github/github-stand-in.js";

const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
/** GitHub cuts requests off at 10 s; the bench scales that time by 1/10 (1 s client timeout, 1.5 s slow answers). */
const TIMEOUT_MS = 1_000;
const SLOW_MS = 1_500;
/** Keys issued to owners per scenario and planted first (the rest of the planted keys are unknown ones). */
const ISSUED_KEYS = Number(process.env.BENCH_ISSUED_KEYS ?? 150);
const ISSUED_HASHES = new Set<string>();
const SCENARIOS: {
  eventsPerMinute: number;
  maxApiCalls: number;
  /** A stress setting: 406 compares at this rate instead of the assumed 0.3 %. */
  tooLargeRate?: number;
}[] = [
  { eventsPerMinute: 2_000, maxApiCalls: DEFAULT_POLL_SETTINGS.maxApiCalls },
  { eventsPerMinute: 4_000, maxApiCalls: DEFAULT_POLL_SETTINGS.maxApiCalls },
  { eventsPerMinute: 8_000, maxApiCalls: DEFAULT_POLL_SETTINGS.maxApiCalls },
  { eventsPerMinute: 2_000, maxApiCalls: DEFAULT_POLL_SETTINGS.maxApiCalls, tooLargeRate: 0.05 },
];

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Keys issued to owners before the run: the firehose plants these, so their emails can be timed. */
async function issueOwnerKeys(
  client: ReturnType<typeof createDocumentClient>,
  keysTable: string,
  count: number,
) {
  const keys = createKeyRepository(client, keysTable);
  const issued: string[] = [];
  for (let i = 0; i < count; i++) {
    issued.push(
      (await issueKey(`bench-${i}`, `owner${i}@example.com`, { keys, clock: { now: () => new Date() } }))
        .rawKey,
    );
  }
  for (const key of issued) ISSUED_HASHES.add(keyHash(key));
  return issued;
}

function spread(values: number[]) {
  return {
    p50: +percentile(values, 50).toFixed(1),
    p95: +percentile(values, 95).toFixed(1),
    max: +Math.max(...values, 0).toFixed(1),
  };
}

async function run(scenario: (typeof SCENARIOS)[number], endpoint: string, index: number) {
  const client = createDocumentClient({ endpoint });
  const tables = localTableNames(`bench${index}${Date.now()}`);
  await createTables(client, tables);
  const ownerKeys = await issueOwnerKeys(client, tables.keys, ISSUED_KEYS);
  const firehose = createFirehose({
    seed: 42,
    eventsPerMinute: scenario.eventsPerMinute,
    plantEvery: 100,
    startMs: Date.now(),
    plantedKey: () => ownerKeys.pop(),
    ...(scenario.tooLargeRate !== undefined ? { failureRates: { too_large: scenario.tooLargeRate } } : {}),
  });
  const standIn = await startGitHubStandIn({ firehose, pollIntervalSeconds: 60, slowMs: SLOW_MS });
  const github = createGitHubClient({ baseUrl: standIn.url, token: "bench", timeoutMs: TIMEOUT_MS });
  github.setDeadline(Number.POSITIVE_INFINITY);
  // Simulated time (DynamoDB Local expires by TTL against real time, so it starts at now).
  let clock = firehose.now();
  const foundAt = new Map<string, number>();
  /** Wall time each key's finding was recorded, and its owner's email written (by incident id). */
  const recordedWall = new Map<string, number>();
  const emailedWall = new Map<string, number>();
  const recorder = createFindingRecorder({ client, tables });
  const record: RecordFindings = async (batch) => {
    const outcomes = await recorder(batch);
    const now = performance.now();
    for (const f of batch) {
      if (!foundAt.has(f.keyHash)) foundAt.set(f.keyHash, clock);
      if (!recordedWall.has(f.keyHash)) recordedWall.set(f.keyHash, now);
    }
    return outcomes;
  };
  // The local runner's notifier path: the incidents stream pump, the notifier, the outbox.
  const outbox = mkdtempSync(join(tmpdir(), "keywatch-bench-outbox-"));
  const outboxEmail = createOutboxEmailSender(outbox);
  const pump = await startStreamPump({
    endpoint,
    tableName: tables.incidents,
    pollMs: 250,
    filters: NOTIFIER_STREAM_FILTERS,
    handler: makeNotifierHandler(
      notifierDeps({
        client,
        tables,
        email: {
          async send(email) {
            await outboxEmail.send(email);
            if (!emailedWall.has(email.incidentId)) emailedWall.set(email.incidentId, performance.now());
          },
        },
        alerts: createOutboxAlertPublisher(outbox),
        sender: "keywatch@example.com",
      }),
    ),
  });
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
  await pump.drained(120_000);
  await pump.stop();
  rmSync(outbox, { recursive: true, force: true });
  // Planted push → owner's email, for keys issued to owners (the firehose planted them first).
  const emailed = firehose.planted.flatMap((p) => {
    const hash = p.planted?.keyHash ?? "";
    const found = foundAt.get(hash);
    const recorded = recordedWall.get(hash);
    const mailed = emailedWall.get(incidentIdFor(hash));
    if (found === undefined || recorded === undefined || mailed === undefined) return [];
    const detect = (found - p.publishedAt) / 1000;
    const notify = (mailed - recorded) / 1000;
    return [{ detect, notify, total: detect + notify }];
  });
  const issuedPlanted = firehose.planted.filter((p) => ISSUED_HASHES.has(p.planted?.keyHash ?? ""));
  const truncatedPlanted = firehose.planted.filter((p) => p.failure === "too_large");
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
    scenario:
      `${scenario.eventsPerMinute} events/min, ${MINUTES} simulated minutes, budget ${scenario.maxApiCalls} calls/run` +
      (scenario.tooLargeRate !== undefined
        ? `, stress: ${scenario.tooLargeRate * 100} % of compares 406`
        : ""),
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
    plantedIssuedToOwners: issuedPlanted.length,
    issuedKeysFound: issuedPlanted.filter((p) => foundAt.has(p.planted?.keyHash ?? "")).length,
    ownersEmailed: emailed.length,
    pushToEmail: {
      publishToFindingSimulatedSeconds: spread(emailed.map((e) => e.detect)),
      findingToEmailWallSeconds: spread(emailed.map((e) => e.notify)),
      publishToEmailSeconds: spread(emailed.map((e) => e.total)),
    },
    truncatedCompares: {
      pushesPublished: firehose.pushes.filter((p) => p.failure === "too_large").length,
      // Distinct 406 pushes whose diff the poller asked for; each carries a key below its head.
      pushesReached: truncatedPlanted.filter((p) => p.attempts > 0).length,
      // Per run: a resumed push whose narrowed compare is still truncated counts again.
      seenByRuns: sum.comparesTruncated ?? 0,
      finished: sum.fallbacksFinished ?? 0,
      resumedLater: sum.pushesResuming ?? 0,
      commitDiffs: sum.commitDiffs ?? 0,
      commitsUnreachable: sum.commitsUnreachable ?? 0,
      commitsGivenUp: sum.commitsGivenUp ?? 0,
      callsSpent: sum.fallbackApiCalls ?? 0,
      plantedInThem: truncatedPlanted.length,
      plantedInThemFound: truncatedPlanted.filter((p) => foundAt.has(p.planted?.keyHash ?? "")).length,
    },
    wallSeconds: +wallSeconds.toFixed(1),
    loadAverage1mAtEnd: +(loadavg()[0] ?? 0).toFixed(1),
  };
}

async function main() {
  const cpu = cpus();
  console.log(
    `machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}, load average (1 min) ${loadavg()[0]?.toFixed(1)} at start (shared machine: others' work counts in it)`,
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
