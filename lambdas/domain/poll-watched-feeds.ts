import type { RecordFindings } from "./finding.js";
import {
  byFetchOrder,
  compareEventIds,
  type GitHubEvent,
  GitHubEventSchema,
  type PushToScan,
} from "./github-events.js";
import {
  claimEventWork,
  DEFAULT_POLL_SETTINGS,
  type DiffCounters,
  diffPushes,
  type EventsApi,
  type EventsPage,
  GitHubRunStoppedError,
  type PollerState,
  type PollSettings,
  type SkipReason,
  saveBacklog,
} from "./poll-events.js";
import { feedsOf, type OwnerType, type WatchEntry, type WatchedFeed } from "./watch-list.js";

/** A watched feed's state between runs (watch-list table, `FEED / <feed id>`). */
export interface FeedCursor {
  feedId: string;
  etag?: string;
  /** From `GET /users/{owner}`: which feed lists an owner's events. Resolved once. */
  ownerType?: OwnerType;
  /** Newest event id seen: the next poll's overlap. */
  newestId?: string;
  /** Last poll GitHub answered (200 or 304): the lag alarm's measure. */
  lastPollAt?: string;
  /** Not before this (X-Poll-Interval, a failure's backoff, an unreachable feed's recheck). */
  nextPollAt?: string;
  /** Consecutive transient failures of this feed (5xx, timeout). */
  failures?: number;
  /** Why the feed can't be read now (owner or repo gone: not_found ...); cleared by the next good poll. */
  unreachable?: string;
  version: number;
}

/** The watch list as the watcher reads it (lambdas/adapters/watch-list-store.ts). */
export interface WatchListStore {
  listEntries(): Promise<WatchEntry[]>;
  loadFeedCursors(): Promise<Map<string, FeedCursor>>;
  /** False when an overlapping run saved first. */
  saveFeedCursor(cursor: FeedCursor): Promise<boolean>;
}

/** One classified answer about an owner or a feed; run-wide stops throw GitHubRunStoppedError. */
export type OwnerTypeResult =
  | { kind: "found"; type: OwnerType }
  | { kind: "unreachable"; reason: string }
  | { kind: "retry"; reason: string };

export type FeedPage = EventsPage | { status: "unreachable" | "retry"; reason: string };

/** Which feed endpoint to read: `/orgs/{org}/events`, `/users/{user}/events/public`, `/repos/{o}/{r}/events`. */
export type FeedRequest =
  | { kind: "org"; owner: string }
  | { kind: "user"; owner: string }
  | { kind: "repo"; owner: string; repo: string };

/** The GitHub calls the watcher makes (lambdas/adapters/github-watch-api.ts). */
export interface WatchApi {
  ownerType(owner: string): Promise<OwnerTypeResult>;
  listFeedEvents(input: {
    feed: FeedRequest;
    page: number;
    perPage: number;
    etag?: string;
  }): Promise<FeedPage>;
  /** The events API's pushDiff (one way to get a push's diff; new branches and fallbacks handled there). */
  pushDiff: EventsApi["pushDiff"];
}

/** The watcher's own claims and retry backlog: the state adapter under its own namespace. */
export type WatcherState = Pick<
  PollerState,
  "claimEvents" | "completeEvents" | "releaseEvents" | "loadBacklog" | "addToBacklog" | "removeFromBacklog"
> & {
  /** Adds calls to the clock hour's count (`hour` = ISO `YYYY-MM-DDTHH`) and returns the total; 0 reads it. */
  spendApiCalls(hour: string, calls: number): Promise<number>;
};

export interface WatchSettings extends PollSettings {
  /**
   * GitHub calls the watcher may make in a clock hour (its share of the 5,000/h); a run may spend up
   * to `maxApiCalls` of what is left, so a burst of pushes is diffed at once instead of deferred.
   */
  maxApiCallsPerHour: number;
  /** A feed's first poll scans events created this long before the target was added (GitHub lists events late). */
  firstPollLookbackMs: number;
  /** Backoff after a feed's transient failure, ×4 per further failure, capped at `feedRetryMaxMs`. */
  feedRetryBaseMs: number;
  feedRetryMaxMs: number;
  /** An unreachable owner or repo (404 ...) is looked at again after this long. */
  unreachableRecheckMs: number;
}

/**
 * Defaults: 1,200 calls an hour, at most 60 in one run; with the poller's 56 a minute (3,360/h) and
 * the sweep's 400/h of blob fetches that stays inside GitHub's 5,000/h (docs/github-scanners.md
 * "Watch lists": steady watching of 50 targets took ~13 calls a minute in the benchmark, with
 * bursts past 25, which a flat per-run cap deferred by a minute); 304s are free and not counted. The backlog is larger than the poller's: a watched push is never
 * dropped while the budget merely lags.
 */
export const DEFAULT_WATCH_SETTINGS: Omit<WatchSettings, "prefixes"> = {
  ...DEFAULT_POLL_SETTINGS,
  maxApiCalls: 60,
  maxApiCallsPerHour: 1_200,
  maxBacklog: 5_000,
  firstPollLookbackMs: 60 * 60_000,
  feedRetryBaseMs: 60_000,
  feedRetryMaxMs: 30 * 60_000,
  unreachableRecheckMs: 60 * 60_000,
};

export interface WatchDeps {
  api: WatchApi;
  store: WatchListStore;
  state: WatcherState;
  recordFindings: RecordFindings;
  now: () => Date;
  settings: WatchSettings;
}

/**
 * What one watcher run did (metrics, health, the local runner's line); the diff counters (calls,
 * unreachable pushes, fallbacks, `stopped`) are the poller's.
 */
export interface WatchCounters extends DiffCounters {
  targets: number;
  feeds: number;
  feedsPolled: number;
  feedsNotModified: number;
  feedsUnreachable: number;
  feedsRetrying: number;
  /** Feeds whose new events outran the 300 GitHub lists (older ones never seen). */
  feedGaps: number;
  ownersResolved: number;
  eventsNew: number;
  eventsScanned: number;
  alreadySeen: number;
  malformed: number;
  pushesSeen: number;
  pushesDiffed: number;
  pushesDropped: number;
  backlog: number;
  findings: number;
  /** Longest time since a watched feed was last read (or added): the lag alarm's metric. */
  oldestFeedAgeSeconds: number;
  skipped?: SkipReason;
}

export function emptyWatchCounters(): WatchCounters {
  return {
    targets: 0,
    feeds: 0,
    feedsPolled: 0,
    feedsNotModified: 0,
    feedsUnreachable: 0,
    feedsRetrying: 0,
    feedGaps: 0,
    ownersResolved: 0,
    eventsNew: 0,
    eventsScanned: 0,
    alreadySeen: 0,
    malformed: 0,
    pushesSeen: 0,
    pushesDiffed: 0,
    pushesUnreachable: 0,
    unreachable: {},
    pushesRetrying: 0,
    pushesGivenUp: 0,
    pushesDropped: 0,
    backlog: 0,
    apiCalls: 0,
    bytesScanned: 0,
    diffsTruncated: 0,
    comparesTruncated: 0,
    commitDiffs: 0,
    commitsUnreachable: 0,
    commitsGivenUp: 0,
    fallbackApiCalls: 0,
    fallbacksFinished: 0,
    pushesResuming: 0,
    findings: 0,
    oldestFeedAgeSeconds: 0,
  };
}

/**
 * The feeds to read this run: due ones (no `nextPollAt`, or it has passed, give or take the
 * schedule's jitter), least recently read first so a tight budget rotates through all of them.
 */
export function planFeedPolls(
  feeds: readonly WatchedFeed[],
  cursors: ReadonlyMap<string, FeedCursor>,
  nowMs: number,
  earlyToleranceMs: number,
): WatchedFeed[] {
  const lastRead = (feed: WatchedFeed) => cursors.get(feed.id)?.lastPollAt ?? "";
  return feeds
    .filter((feed) => {
      const next = cursors.get(feed.id)?.nextPollAt;
      return !next || Date.parse(next) <= nowMs + earlyToleranceMs;
    })
    .sort((a, b) => lastRead(a).localeCompare(lastRead(b)) || a.id.localeCompare(b.id));
}

/** The endpoint for a feed, once an owner's type is known. */
export function feedRequestOf(feed: WatchedFeed, ownerType: OwnerType | undefined): FeedRequest | undefined {
  if (feed.kind === "repo") return { kind: "repo", owner: feed.owner, repo: feed.repo ?? "" };
  if (!ownerType) return undefined;
  return { kind: ownerType === "Organization" ? "org" : "user", owner: feed.owner };
}

interface FeedRead {
  cursor: FeedCursor;
  events: GitHubEvent[];
}

/**
 * The watcher: every watched feed (owner or repository) is read with its ETag (a 304 costs no rate
 * limit) no sooner than GitHub's X-Poll-Interval, text events are scanned, and EVERY push of a
 * watched target is diffed through the events API's pushDiff, within a per-run budget; what the
 * budget doesn't reach waits in a backlog (not dropped). Claims live in the watcher's own namespace,
 * so a push the public-events poller already claimed (or dropped) is still diffed here. Failures
 * are classified as the poller's: a push unreachable or retried with backoff, a feed retried with
 * backoff or rechecked later, a run-wide stop (rate limit, 401, deadline) ends GitHub calls cleanly.
 */
export async function pollWatchedFeeds(deps: WatchDeps): Promise<WatchCounters> {
  const { api, store, state, settings } = deps;
  const counters = emptyWatchCounters();
  const started = deps.now();
  const nowMs = started.getTime();
  const seenAt = started.toISOString();
  const entries = await store.listEntries();
  const feeds = feedsOf(entries);
  counters.targets = entries.length;
  counters.feeds = feeds.length;
  const cursors = await store.loadFeedCursors();
  const hour = seenAt.slice(0, 13);
  const spentThisHour = await state.spendApiCalls(hour, 0);
  // This run's budget: the hour's share left, at most the per-run cap.
  const budget = Math.max(0, Math.min(settings.maxApiCalls, settings.maxApiCallsPerHour - spentThisHour));
  const runSettings = { ...settings, maxApiCalls: budget };
  const changed = new Map<string, FeedCursor>();
  const events = new Map<string, GitHubEvent>();
  let stop: GitHubRunStoppedError | undefined;

  for (const feed of planFeedPolls(feeds, cursors, nowMs, settings.earlyToleranceMs)) {
    if (counters.apiCalls >= budget) break;
    const cursor = cursors.get(feed.id) ?? { feedId: feed.id, version: 0 };
    try {
      const read = await readFeed({ ...deps, settings: runSettings }, feed, cursor, counters, nowMs);
      if (!read) continue;
      changed.set(feed.id, read.cursor);
      for (const event of read.events) if (!events.has(event.id)) events.set(event.id, event);
    } catch (error) {
      if (!(error instanceof GitHubRunStoppedError)) throw error;
      stop = error;
      counters.stopped = error.reason;
      break;
    }
  }
  counters.eventsNew = events.size;
  for (const feed of feeds) {
    const cursor = changed.get(feed.id) ?? cursors.get(feed.id);
    // A feed GitHub answers 404 for is reported as unreachable (health, FeedsUnreachable), not as lag.
    if (cursor?.unreachable) continue;
    const since = Date.parse(cursor?.lastPollAt ?? feed.addedAt);
    if (Number.isFinite(since)) {
      counters.oldestFeedAgeSeconds = Math.max(
        counters.oldestFeedAgeSeconds,
        Math.round((nowMs - since) / 1000),
      );
    }
  }

  const ordered = [...events.values()].sort((a, b) => compareEventIds(a.id, b.id));
  const { mine, findings, newPushes } = await claimEventWork(
    ordered,
    { state, prefixes: settings.prefixes, seenAt },
    counters,
  );

  const backlog = await state.loadBacklog(settings.maxBacklog);
  const backlogIds = new Set(backlog.map((push) => push.eventId));
  const due = backlog.filter((push) => !push.retryAt || Date.parse(push.retryAt) <= nowMs);
  // A stop while reading feeds (rate limit ...) means no diff this run: everything waits.
  const diffed = stop
    ? { findings: [], done: [], retryLater: [], scanned: 0 }
    : await diffPushes(
        { api, settings, seenAt, now: new Date(nowMs) },
        [...due, ...newPushes].sort(byFetchOrder),
        counters,
        budget,
      );
  findings.push(...diffed.findings);
  const { done, retryLater } = diffed;
  counters.pushesDiffed += diffed.scanned;
  counters.eventsScanned += diffed.scanned;
  if (diffed.stop) {
    stop = diffed.stop;
    counters.stopped = diffed.stop.reason;
  }

  await state.spendApiCalls(hour, counters.apiCalls);
  try {
    if (findings.length > 0) await deps.recordFindings(findings);
  } catch (error) {
    // Nothing is lost: claims released and cursors not advanced, so the next run reads these again.
    await state.releaseEvents(mine);
    throw error;
  }
  counters.findings = findings.length;
  await state.completeEvents(mine);
  // A rate limit's reset holds back every waiting push: no diff is asked for before it.
  const notBefore = stop?.retryAt?.toISOString();
  const held = (push: PushToScan) =>
    notBefore && (!push.retryAt || push.retryAt < notBefore) ? { ...push, retryAt: notBefore } : push;
  for (const push of [...due, ...newPushes]) {
    if (notBefore && !done.includes(push) && !retryLater.some((p) => p.eventId === push.eventId))
      retryLater.push(held(push));
  }
  const saved = await saveBacklog(state, settings.maxBacklog, {
    backlog,
    backlogIds,
    newPushes,
    done,
    retryLater,
  });
  counters.pushesDropped = saved.dropped;
  counters.backlog = saved.kept;
  for (const cursor of changed.values()) await store.saveFeedCursor(cursor);
  return counters;
}

/**
 * Reads one feed: the owner's type first if unknown (one call), then pages with the ETag until
 * they reach the newest event seen (or, on a first poll, events older than the target's addition).
 * Returns undefined when nothing about the feed changed (budget gone before its first call).
 */
async function readFeed(
  deps: WatchDeps,
  feed: WatchedFeed,
  cursor: FeedCursor,
  counters: WatchCounters,
  nowMs: number,
): Promise<FeedRead | undefined> {
  const { api, settings } = deps;
  const next: FeedCursor = { ...cursor };
  const at = new Date(nowMs).toISOString();
  const later = (ms: number) => new Date(nowMs + ms).toISOString();
  if (feed.kind === "owner" && !next.ownerType) {
    counters.apiCalls++;
    const owner = await api.ownerType(feed.owner);
    if (owner.kind !== "found")
      return { cursor: feedFailed(next, owner, counters, settings, nowMs), events: [] };
    next.ownerType = owner.type;
    counters.ownersResolved++;
  }
  const request = feedRequestOf(feed, next.ownerType);
  if (!request) return undefined;
  const since =
    next.newestId === undefined ? Date.parse(feed.addedAt) - settings.firstPollLookbackMs : undefined;
  const found: GitHubEvent[] = [];
  let reachedKnown = false;
  let etag: string | undefined;
  let pollInterval: number | undefined;
  let newestSeen = next.newestId;
  let page = 1;
  for (; page <= settings.maxPages; page++) {
    // The budget ran out mid-feed: keep what was read, leave the overlap for the next run to finish.
    if (counters.apiCalls >= settings.maxApiCalls) return { cursor: next, events: found };
    const result = await api.listFeedEvents({
      feed: request,
      page,
      perPage: settings.perPage,
      ...(page === 1 && next.etag ? { etag: next.etag } : {}),
    });
    if ("reason" in result) {
      counters.apiCalls++;
      const failure = { kind: result.status, reason: result.reason };
      // An owner renamed or turned into an organization: its type is looked up again next time.
      if (failure.kind === "unreachable" && feed.kind === "owner") delete next.ownerType;
      return { cursor: feedFailed(next, failure, counters, settings, nowMs), events: [] };
    }
    if (page === 1) pollInterval = result.pollIntervalSeconds;
    if (result.status === 304) {
      counters.feedsNotModified++;
      reachedKnown = true;
      break;
    }
    counters.apiCalls++;
    if (page === 1) etag = result.etag;
    for (const raw of result.events) {
      const parsed = GitHubEventSchema.safeParse(raw);
      if (!parsed.success) {
        counters.malformed++;
        continue;
      }
      const event = parsed.data;
      if (newestSeen === undefined || compareEventIds(event.id, newestSeen) > 0) newestSeen = event.id;
      const known = next.newestId !== undefined && compareEventIds(event.id, next.newestId) <= 0;
      const tooOld = since !== undefined && Date.parse(event.created_at) < since;
      if (known || tooOld) reachedKnown = true;
      else found.push(event);
    }
    if (reachedKnown || !result.hasNext) {
      reachedKnown = true;
      break;
    }
  }
  counters.feedsPolled++;
  if (!reachedKnown) counters.feedGaps++;
  if (newestSeen !== undefined) next.newestId = newestSeen;
  if (etag) next.etag = etag;
  next.lastPollAt = at;
  next.failures = 0;
  delete next.unreachable;
  const waitMs = Math.max((pollInterval ?? 60) * 1000, 0);
  next.nextPollAt = later(waitMs);
  return { cursor: next, events: found };
}

/** A feed (or its owner lookup) failed: unreachable ones are rechecked later, transient ones backed off. */
function feedFailed(
  cursor: FeedCursor,
  failure: { kind: "unreachable" | "retry"; reason: string },
  counters: WatchCounters,
  settings: WatchSettings,
  nowMs: number,
): FeedCursor {
  if (failure.kind === "unreachable") {
    counters.feedsUnreachable++;
    return {
      ...cursor,
      unreachable: failure.reason,
      nextPollAt: new Date(nowMs + settings.unreachableRecheckMs).toISOString(),
    };
  }
  counters.feedsRetrying++;
  const failures = (cursor.failures ?? 0) + 1;
  const backoff = Math.min(settings.feedRetryBaseMs * 4 ** (failures - 1), settings.feedRetryMaxMs);
  return { ...cursor, failures, nextPollAt: new Date(nowMs + backoff).toISOString() };
}
