/**
 * Watch lists inside GitHub's firehose (issue 12 point 4): 50 watched targets (20 users, 20
 * organizations, 10 repositories) whose pushes are part of a 2,000-8,000 events/min public feed
 * (the stand-in's firehose mode, diff failures injected). Every simulated minute the events poller
 * (56 calls) and the watcher (≤ 60 calls, 1,200 an hour) run once, with the real octokit client, the real state and
 * watch-list adapters on DynamoDB Local and the real leak response: keys issued to each target's
 * owner are planted in their pushes, recorded by recordFindings, and emailed by the notifier from
 * the incidents stream through the local pump into an outbox, as `npm start` does.
 *
 * Prints per scenario: watched pushes diffed / published, time from a planted push's publication
 * to its owner's email (simulated detection time + the real recording-to-email time), and GitHub
 * API calls per hour of poller + watcher (+ the sweep's configured bound) against 5,000/h.
 *
 *   npm run bench:github-watch     (BENCH_MINUTES=20 measured, BENCH_WARMUP_MINUTES=3, BENCH_WATCHED_PUSHES=6 a minute)
 */
import { mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createTables } from "../bin/local/create-tables.js";
import { startDynamoDbLocal } from "../bin/local/dynamodb-local.js";
import { startNotifier } from "../bin/local/local-services.js";
import { createDocumentClient } from "../lambdas/adapters/dynamodb-client.js";
import { createKeyRepository } from "../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../lambdas/adapters/finding-recorder.js";
import { createGitHubClient, webUrlFor } from "../lambdas/adapters/github-client.js";
import { createGitHubEventsApi } from "../lambdas/adapters/github-events-api.js";
import { createGitHubScanState } from "../lambdas/adapters/github-scan-state.js";
import { createGitHubWatchApi } from "../lambdas/adapters/github-watch-api.js";
import { WATCHER_NAMESPACE } from "../lambdas/adapters/github-watcher-cycle.js";
import { localTableNames } from "../lambdas/adapters/table-specs.js";
import { createWatchListStore } from "../lambdas/adapters/watch-list-store.js";
import type { RecordFindings } from "../lambdas/domain/finding.js";
import { incidentIdFor } from "../lambdas/domain/incident.js";
import { issueKey } from "../lambdas/domain/issue-key.js";
import { keyHash } from "../lambdas/domain/key-format.js";
import { DEFAULT_POLL_SETTINGS, pollEvents } from "../lambdas/domain/poll-events.js";
import {
  DEFAULT_WATCH_SETTINGS,
  pollWatchedFeeds,
  type WatchApi,
} from "../lambdas/domain/poll-watched-feeds.js";
import { WatchTargetSchema } from "../lambdas/domain/watch-list.js";
import { createFirehose, type FirehosePush } from "../standin/github/github-firehose.js";
import { createOwnerFeeds, type OwnerAccount } from "../standin/github/github-owner-feeds.js";
import { startGitHubStandIn } from "../standin/github/github-stand-in.js";

const MINUTES = Number(process.env.BENCH_MINUTES ?? 20);
const WARMUP_MINUTES = Number(process.env.BENCH_WARMUP_MINUTES ?? 3);
/** Minutes polled after the measured window so its last pushes get their chance (not counted as published). */
const DRAIN_MINUTES = 4;
const WATCHED_PUSHES_PER_MINUTE = Number(process.env.BENCH_WATCHED_PUSHES ?? 6);
const POLLER_CALLS = DEFAULT_POLL_SETTINGS.maxApiCalls;
const WATCHER_CALLS_PER_HOUR = Number(
  process.env.BENCH_WATCHER_CALLS_PER_HOUR ?? DEFAULT_WATCH_SETTINGS.maxApiCallsPerHour,
);
/** The sweep's core-rate calls: at most 100 blob fetches a run, 4 runs an hour (searches have their own 30/min limit). */
const SWEEP_CORE_CALLS_PER_HOUR = 400;
/** A planted key in one watched push out of this many (each one a key issued to that target's owner). */
const PLANT_EVERY = 3;
/** GitHub cuts requests off at 10 s; scaled by 1/10 as in bench/github.bench.ts. */
const TIMEOUT_MS = 1_000;
const SLOW_MS = 1_500;
const SCENARIOS = (process.env.BENCH_EVENTS_PER_MINUTE ?? "2000,4000,8000").split(",").map(Number);

const USERS = Array.from({ length: 20 }, (_, i) => `watched-user-${i}`);
const ORGS = Array.from({ length: 20 }, (_, i) => `Watched-Org-${i}`);
const REPO_OWNERS = Array.from({ length: 10 }, (_, i) => `repo-owner-${i}`);
/** The firehose sends a watched owner's pushes to its repo0..repo19: a repo target sees 1 in 20 of its owner's. */
const TARGETS = [...USERS, ...ORGS, ...REPO_OWNERS.map((owner) => `${owner}/repo3`)];

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function isWatched(push: FirehosePush): boolean {
  const owner = push.owner.toLowerCase();
  return (
    USERS.includes(push.owner) ||
    ORGS.some((org) => org.toLowerCase() === owner) ||
    TARGETS.some((target) => target.toLowerCase() === push.repo.toLowerCase())
  );
}

async function run(eventsPerMinute: number, endpoint: string, index: number) {
  const client = createDocumentClient({ endpoint });
  const tables = localTableNames(`watchbench${index}${Date.now()}`);
  await createTables(client, tables);
  const owners: OwnerAccount[] = [
    ...USERS.map((login) => ({ login, type: "User" as const })),
    ...ORGS.map((login) => ({ login, type: "Organization" as const })),
    ...REPO_OWNERS.map((login) => ({ login, type: "User" as const })),
  ];
  const watchedOwners = [...USERS, ...ORGS, ...REPO_OWNERS];
  // Repo targets see 1/20 of their owner's pushes: the share makes watched pushes ≈ the asked rate.
  const watchedPerOwnerShare = WATCHED_PUSHES_PER_MINUTE / (40 + 10 / 20);
  const firehose = createFirehose({
    seed: 7 + index,
    eventsPerMinute,
    plantEvery: 0,
    watchedOwners,
    watchedPushShare: (watchedPerOwnerShare * watchedOwners.length) / (eventsPerMinute * 0.85),
    startMs: Date.now(),
  });
  const standIn = await startGitHubStandIn({
    firehose,
    pollIntervalSeconds: 60,
    slowMs: SLOW_MS,
    ownerFeeds: createOwnerFeeds({ owners }),
  });
  const webUrl = webUrlFor(standIn.url);
  let clock = firehose.now();
  const simNow = () => new Date(clock);

  const store = createWatchListStore({ client, tableName: tables.watchList });
  for (const [i, raw] of TARGETS.entries()) {
    await store.add({
      project: `project-${i}`,
      target: WatchTargetSchema.parse(raw),
      addedAt: simNow().toISOString(),
    });
  }

  // The real leak response: keys issued to the targets' owners, findings recorded, emails from the stream.
  const emailAt = new Map<string, number>();
  const outbox = mkdtempSync(join(tmpdir(), "keywatch-watch-bench-"));
  const notifier = await startNotifier({
    client,
    tables,
    endpoint,
    outbox,
    prefixes: ["smk_"],
    now: () => new Date(),
    log: (line) => {
      const incident = /-(inc_[0-9a-f]+)\.eml/.exec(line)?.[1];
      if (line.startsWith("email written") && incident && !emailAt.has(incident))
        emailAt.set(incident, Date.now());
    },
  });
  const keyRepo = createKeyRepository(client, tables.keys);
  const recorder = createFindingRecorder({ client, tables });
  const planted = new Map<string, FirehosePush>();
  const found = new Map<string, { by: "poller" | "watcher"; simMs: number; realMs: number }>();
  const watcherFoundSim = new Map<string, number>();
  const recordAs =
    (by: "poller" | "watcher"): RecordFindings =>
    async (batch) => {
      const realMs = Date.now();
      for (const f of batch) {
        if (!planted.has(f.keyHash)) continue;
        if (!found.has(f.keyHash)) found.set(f.keyHash, { by, simMs: clock, realMs });
        if (by === "watcher" && !watcherFoundSim.has(f.keyHash)) watcherFoundSim.set(f.keyHash, clock);
      }
      return recorder(batch);
    };

  const pollerGitHub = createGitHubClient({ baseUrl: standIn.url, token: "bench", timeoutMs: TIMEOUT_MS });
  const watcherGitHub = createGitHubClient({ baseUrl: standIn.url, token: "bench", timeoutMs: TIMEOUT_MS });
  pollerGitHub.setDeadline(Number.POSITIVE_INFINITY);
  watcherGitHub.setDeadline(Number.POSITIVE_INFINITY);
  const pollerDeps = {
    api: createGitHubEventsApi(pollerGitHub),
    state: createGitHubScanState({ client, tableName: tables.state, now: simNow }),
    recordFindings: recordAs("poller"),
    now: simNow,
    settings: { ...DEFAULT_POLL_SETTINGS, prefixes: ["smk_"], webUrl, maxApiCalls: POLLER_CALLS },
  };
  // What the watcher diffed (or found unreachable), by event id: the coverage numerator.
  const watcherHandled = new Map<string, "diff" | "unreachable" | "retry">();
  const watchApi = createGitHubWatchApi(watcherGitHub);
  const countingApi: WatchApi = {
    ...watchApi,
    async pushDiff(push) {
      const result = await watchApi.pushDiff(push);
      if (watcherHandled.get(push.eventId) !== "diff") watcherHandled.set(push.eventId, result.kind);
      return result;
    },
  };
  const watcherDeps = {
    api: countingApi,
    store,
    state: createGitHubScanState({
      client,
      tableName: tables.state,
      now: simNow,
      namespace: WATCHER_NAMESPACE,
    }),
    recordFindings: recordAs("watcher"),
    now: simNow,
    settings: {
      ...DEFAULT_WATCH_SETTINGS,
      prefixes: ["smk_"],
      webUrl,
      maxApiCallsPerHour: WATCHER_CALLS_PER_HOUR,
    },
  };

  const measureFrom = firehose.now() + WARMUP_MINUTES * 60_000;
  const measureTo = measureFrom + MINUTES * 60_000;
  const usage = { pollerHttp: 0, pollerCalls: 0, watcherHttp: 0, watcherCalls: 0, watcherNotModified: 0 };
  const watcherSums: Record<string, number> = {};
  let plantCounter = 0;
  let seenPushes = 0;
  const started = performance.now();
  for (let minute = 0; minute < WARMUP_MINUTES + MINUTES + DRAIN_MINUTES; minute++) {
    const inWindow = clock >= measureFrom && clock < measureTo;
    standIn.advance(60_000);
    for (const push of firehose.pushes.slice(seenPushes)) {
      if (!isWatched(push) || push.failure || push.publishedAt < measureFrom || push.publishedAt >= measureTo)
        continue;
      if (plantCounter++ % PLANT_EVERY !== 0) continue;
      const target = TARGETS.find((t) => t.toLowerCase() === push.repo.toLowerCase()) ?? push.owner;
      const { rawKey } = await issueKey(
        `project-${TARGETS.indexOf(target)}`,
        `owner-${push.owner.toLowerCase()}@example.com`,
        {
          keys: keyRepo,
          clock: { now: () => new Date() },
        },
      );
      const hash = keyHash(rawKey);
      push.planted = { key: rawKey, keyHash: hash, path: ".env", commit: push.head };
      planted.set(hash, push);
    }
    seenPushes = firehose.pushes.length;
    clock = firehose.now();
    const pollerBefore = pollerGitHub.stats.requests;
    const poll = await pollEvents(pollerDeps);
    const watcherBefore = watcherGitHub.stats.requests;
    const watch = await pollWatchedFeeds(watcherDeps);
    if (process.env.BENCH_DEBUG) {
      const { feedsPolled, feedsNotModified, pushesSeen, pushesDiffed, backlog, apiCalls, pushesRetrying } =
        watch;
      console.log(
        `minute ${minute}: ${JSON.stringify({ feedsPolled, feedsNotModified, pushesSeen, pushesDiffed, pushesRetrying, backlog, apiCalls })}`,
      );
    }
    if (inWindow) {
      usage.pollerHttp += pollerGitHub.stats.requests - pollerBefore;
      usage.pollerCalls += poll.apiCalls - poll.notModified;
      usage.watcherHttp += watcherGitHub.stats.requests - watcherBefore;
      usage.watcherCalls += watch.apiCalls;
      usage.watcherNotModified += watch.feedsNotModified;
      for (const [key, value] of Object.entries(watch)) {
        if (typeof value === "number") watcherSums[key] = (watcherSums[key] ?? 0) + value;
      }
    }
  }
  const wallSeconds = (performance.now() - started) / 1000;

  // Emails: wait for the notifier to catch up with every recorded planted key (bounded).
  const waitUntil = Date.now() + 30_000;
  while (Date.now() < waitUntil && [...found.keys()].some((hash) => !emailAt.has(incidentIdFor(hash)))) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await notifier.stop();

  const watched = firehose.pushes.filter(
    (p) => isWatched(p) && p.publishedAt >= measureFrom && p.publishedAt < measureTo,
  );
  const diffed = watched.filter((p) => watcherHandled.get(p.eventId) === "diff");
  const unreachable = watched.filter((p) => watcherHandled.get(p.eventId) === "unreachable");
  const toEmail: number[] = [];
  const watcherDetection: number[] = [];
  for (const [hash, push] of planted) {
    const first = found.get(hash);
    const sent = emailAt.get(incidentIdFor(hash));
    if (first && sent !== undefined)
      toEmail.push((first.simMs - push.publishedAt + (sent - first.realMs)) / 1000);
    if (process.env.BENCH_DEBUG && first) {
      console.log(
        `planted ${push.repo} published +${Math.round((push.publishedAt - measureFrom) / 1000)} s, found by ${first.by} after ${Math.round((first.simMs - push.publishedAt) / 1000)} s`,
      );
    }
    const byWatcher = watcherFoundSim.get(hash);
    if (byWatcher !== undefined) watcherDetection.push((byWatcher - push.publishedAt) / 1000);
  }
  const hours = MINUTES / 60;
  const pollerPerHour = Math.round(usage.pollerCalls / hours);
  const watcherPerHour = Math.round(usage.watcherCalls / hours);
  await standIn.stop();
  client.destroy();
  return {
    scenario: `${eventsPerMinute} events/min, ${TARGETS.length} targets (20 users, 20 orgs, 10 repos), ~${WATCHED_PUSHES_PER_MINUTE} watched pushes/min, ${MINUTES} measured simulated minutes after ${WARMUP_MINUTES} warm-up`,
    eventsPublished: firehose.published(),
    watchedPushesPublished: watched.length,
    watchedPushesDiffed: diffed.length,
    watchedPushesUnreachable: unreachable.length,
    watchedDiffedShare: +(diffed.length / Math.max(watched.length, 1)).toFixed(4),
    watchedDiffedOrUnreachableShare: +(
      (diffed.length + unreachable.length) /
      Math.max(watched.length, 1)
    ).toFixed(4),
    watchedPushesWithInjectedFailure: watched.filter((p) => p.failure).length,
    watcherRetries: watcherSums.pushesRetrying ?? 0,
    watcherGivenUp: watcherSums.pushesGivenUp ?? 0,
    watcherBacklogDropped: watcherSums.pushesDropped ?? 0,
    watcherFeedGaps: watcherSums.feedGaps ?? 0,
    plantedKeys: planted.size,
    plantedKeysEmailed: toEmail.length,
    plantedFoundFirstByPoller: [...found.values()].filter((f) => f.by === "poller").length,
    secondsPushToEmailP50: Math.round(percentile(toEmail, 50)),
    secondsPushToEmailP95: Math.round(percentile(toEmail, 95)),
    secondsPushToEmailMax: Math.round(Math.max(...toEmail, 0)),
    secondsPushToWatcherFindingMax: Math.round(Math.max(...watcherDetection, 0)),
    plantedEmailedAfterTwoIntervals: toEmail.filter((seconds) => seconds > 120).length,
    pollIntervalSeconds: 60,
    apiCallsPerHour: {
      poller: pollerPerHour,
      watcher: watcherPerHour,
      sweepBound: SWEEP_CORE_CALLS_PER_HOUR,
      total: pollerPerHour + watcherPerHour + SWEEP_CORE_CALLS_PER_HOUR,
      budget: 5_000,
    },
    httpRequestsPerHour: {
      poller: Math.round(usage.pollerHttp / hours),
      watcher: Math.round(usage.watcherHttp / hours),
      watcherNotModified: Math.round(usage.watcherNotModified / hours),
    },
    wallSeconds: +wallSeconds.toFixed(1),
  };
}

async function main() {
  const cpu = cpus();
  console.log(
    `machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (shared machine: other work runs beside this)`,
  );
  const dynamo = await startDynamoDbLocal();
  try {
    for (const [i, eventsPerMinute] of SCENARIOS.entries()) {
      console.log(JSON.stringify(await run(eventsPerMinute, dynamo.endpoint, i), null, 2));
      console.log(
        `load average after: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}`,
      );
    }
  } finally {
    await dynamo.stop();
  }
}

await main();
