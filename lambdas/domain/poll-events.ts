import { scanPushDiff, textFindings } from "./event-findings.js";
import type { Finding, RecordFindings } from "./finding.js";
import {
  byFetchOrder,
  compareEventIds,
  eventIdSpan,
  type GitHubEvent,
  GitHubEventSchema,
  isCoverageGap,
  type PushToScan,
  planPushFetches,
  workFor,
} from "./github-events.js";

/** Why a run stopped talking to GitHub before its work was done. */
export type StopReason = "rate_limited" | "unavailable" | "deadline" | "unauthorized";

/** Why a scheduled run didn't start: the token secret holds no token, or another run holds the lease. */
export type SkipReason = "token_placeholder" | "overlapping_run";

/** Thrown by GitHub ports when the run must stop cleanly (limits, outage, the run's deadline). */
export class GitHubRunStoppedError extends Error {
  constructor(
    readonly reason: StopReason,
    message: string,
    options?: { cause?: unknown; retryAt?: Date },
  ) {
    super(message, options);
    this.name = "GitHubRunStoppedError";
    this.retryAt = options?.retryAt;
  }
  readonly retryAt: Date | undefined;
  /** Calls the interrupted operation had made (a push's diff sets it), so budgets stay exact. */
  apiCalls?: number;
}

export interface EventsPage {
  status: 200 | 304;
  /** Unvalidated: each event is checked with GitHubEventSchema. */
  events: unknown[];
  etag?: string;
  pollIntervalSeconds?: number;
  hasNext: boolean;
}

/** One diff text and the commit its findings point at (the push's head for a compare). */
export interface DiffPart {
  commit: string;
  text: string;
}

/**
 * How a truncated compare was covered (docs/github-scanners.md, "New branches and truncated
 * compares"): GitHub refused its diff (406 `too_large`) or it was over our caps, so the push's
 * commits were listed and diffed one by one, newest first.
 */
export interface CommitFallback {
  /**
   * Why the push is diffed commit by commit: its compare was refused (406) or over our caps, or it
   * is a new repository's first push, which has no base to compare with.
   */
  truncation: "too_large" | "over_caps" | "first_push";
  /** Commits the compare covers (`total_commits`); for a first push, the commits listed. */
  commitsListed: number;
  /** Commit diffs fetched and scanned by this call. */
  commitDiffs: number;
  /** Commits whose own diff can't be read (406, 404, 451 ...): that commit only. */
  commitsUnreachable: { sha: string; reason: string }[];
  /** Oldest commits beyond the fallback's bound: never fetched, counted. */
  commitsGivenUp: number;
  /** Calls spent on the fallback (commit-list pages and commit diffs). */
  apiCalls: number;
}

/** Why part of a push's diff waits for a later run. */
export type RestReason = "budget" | "transient" | "stopped";

/**
 * One push's diff, classified: the text; `unreachable` for this push only (blocked, DMCA, gone:
 * retrying won't help); `retry` for a transient failure (5xx, timeout) worth a later try. Every
 * variant says how many GitHub calls it made (`apiCalls`: all of them count against the budget).
 * A failure that concerns the whole run (rate limit, 401, deadline) throws GitHubRunStoppedError,
 * unless it came mid-fallback: then the parts already read are returned with `rest` and `stop`.
 */
export type DiffResult =
  | {
      kind: "diff";
      /** Every part's text one after another (for callers that don't need per-commit locations). */
      text: string;
      parts: DiffPart[];
      apiCalls: number;
      /** Set when the compare was truncated and the push's commits were diffed instead. */
      fallback?: CommitFallback;
      /**
       * What this call didn't cover, as the same push narrowed to it (`before` = the base already
       * resolved, `head` = the newest commit not yet diffed): a later run resumes from there.
       */
      rest?: { push: PushToScan; reason: RestReason };
      /** The run-wide stop met mid-fallback (reason `stopped`). */
      stop?: GitHubRunStoppedError;
    }
  | { kind: "unreachable"; reason: string; apiCalls: number }
  | { kind: "retry"; reason: string; apiCalls: number };

export interface PushDiffOptions {
  /** GitHub calls this push may use (the run's remaining budget); the fallback stops there. */
  maxCalls?: number;
}

/** The GitHub calls the poller makes (lambdas/adapters/github-events-api.ts). */
export interface EventsApi {
  listPublicEvents(input: { page: number; perPage: number; etag?: string }): Promise<EventsPage>;
  /**
   * The push's diff: one compare call; a new branch: its repo's default branch, then default...head;
   * a truncated compare: the push's commits, newest first, within `maxCalls`.
   */
  pushDiff(push: PushToScan, options?: PushDiffOptions): Promise<DiffResult>;
}

export interface PollerCursor {
  etag?: string;
  /** Newest event id seen by the previous poll: the overlap a gap is measured against. */
  newestId?: string;
  /** Not before this (X-Poll-Interval, or a rate limit's reset). */
  nextPollAt?: string;
  coverageGaps: number;
  /** Optimistic-concurrency version of the cursor item. */
  version: number;
}

/** Poller state in the state table (lambdas/adapters/github-scan-state.ts). */
export interface PollerState {
  loadCursor(): Promise<PollerCursor>;
  /** False when another invocation saved first (the cursor is then left to it). */
  saveCursor(cursor: PollerCursor): Promise<boolean>;
  /**
   * Claims events for this run (conditional writes); returns the ids it won. An event claimed by a
   * run that died before completing it (lease over) is claimed again.
   */
  claimEvents(ids: readonly string[]): Promise<Set<string>>;
  /** Marks claimed events done once their findings are recorded. */
  completeEvents(ids: readonly string[]): Promise<void>;
  /** Un-claims events whose work failed so a later run retries them. */
  releaseEvents(ids: readonly string[]): Promise<void>;
  loadBacklog(limit: number): Promise<PushToScan[]>;
  addToBacklog(pushes: readonly PushToScan[]): Promise<void>;
  removeFromBacklog(pushes: readonly PushToScan[]): Promise<void>;
  queueRepoSweep(repo: string): Promise<void>;
}

export interface PollSettings {
  prefixes: readonly string[];
  /** API calls a run may make (event pages included). */
  maxApiCalls: number;
  perPage: number;
  /** GitHub serves at most 300 events: 3 pages of 100. */
  maxPages: number;
  maxDiffFiles: number;
  maxDiffBytes: number;
  /** Web base for blob links, e.g. https://github.com. */
  webUrl: string;
  /** Fetches of one push's diff that may fail transiently (5xx, timeout) before it is given up. */
  maxDiffAttempts: number;
  /** Backoff before the first retry of a push; multiplied by 4 per further attempt. */
  diffRetryBaseMs: number;
  /** Pushes kept waiting for a diff; beyond it the lowest-ranked are dropped and counted. */
  maxBacklog: number;
  /** A run this early before X-Poll-Interval has passed still polls (schedules jitter by seconds). */
  earlyToleranceMs: number;
}

export const DEFAULT_POLL_SETTINGS: Omit<PollSettings, "prefixes"> = {
  maxApiCalls: 56,
  perPage: 100,
  maxPages: 3,
  maxDiffFiles: 300,
  maxDiffBytes: 1_000_000,
  webUrl: "https://github.com",
  maxDiffAttempts: 3,
  diffRetryBaseMs: 2 * 60_000,
  maxBacklog: 1000,
  earlyToleranceMs: 5_000,
};

export interface PollDeps {
  api: EventsApi;
  state: PollerState;
  recordFindings: RecordFindings;
  now: () => Date;
  settings: PollSettings;
}

/** What one poll did; the handler turns these into metrics, the local runner into a progress line. */
export interface PollCounters {
  eventsSeen: number;
  eventsScanned: number;
  alreadySeen: number;
  skippedByBudget: number;
  malformed: number;
  bytesScanned: number;
  apiCalls: number;
  notModified: number;
  coverageGaps: number;
  pushesScanned: number;
  diffsTruncated: number;
  reposQueued: number;
  findings: number;
  /** Events newer than the previous poll's newest (all fetched events on the first poll). */
  eventsNew: number;
  /** Events published since the previous poll, estimated from the event-id span (0 on the first poll). */
  eventsPublished: number;
  /** New pushes this run found in the feed (each needs one diff). */
  pushesSeen: number;
  /** Pushes that can't be diffed (blocked, DMCA, gone, too large ...): recorded, never retried. */
  pushesUnreachable: number;
  /** The same, by reason. */
  unreachable: Record<string, number>;
  /** Pushes whose diff failed transiently, kept for a later run with backoff. */
  pushesRetrying: number;
  /** Pushes given up after `maxDiffAttempts` transient failures. */
  pushesGivenUp: number;
  /** Pushes dropped from the bounded backlog (lowest priority, oldest first). */
  pushesDropped: number;
  /** Pushes waiting in the backlog after the run. */
  backlog: number;
  /** Compares found truncated (406 `too_large`, or over the caps): their commits were diffed instead. */
  comparesTruncated: number;
  /** Single-commit diffs fetched by those fallbacks. */
  commitDiffs: number;
  /** Commits whose own diff couldn't be read (that commit only). */
  commitsUnreachable: number;
  /** Commits beyond a fallback's bound (the oldest of a very long push), never fetched. */
  commitsGivenUp: number;
  /** Calls the fallbacks spent (commit-list pages, commit diffs). */
  fallbackApiCalls: number;
  /** Truncated pushes whose fallback reached its last commit this run. */
  fallbacksFinished: number;
  /** Pushes partly diffed, kept in the backlog narrowed to what is left (budget or a run stop). */
  pushesResuming: number;
  /** The poll was skipped: GitHub's X-Poll-Interval (or a rate-limit reset) hasn't passed. */
  tooEarly: boolean;
  skipped?: SkipReason;
  stopped?: StopReason;
}

export function emptyPollCounters(): PollCounters {
  return {
    eventsSeen: 0,
    eventsScanned: 0,
    alreadySeen: 0,
    skippedByBudget: 0,
    malformed: 0,
    bytesScanned: 0,
    apiCalls: 0,
    notModified: 0,
    coverageGaps: 0,
    pushesScanned: 0,
    diffsTruncated: 0,
    reposQueued: 0,
    findings: 0,
    eventsNew: 0,
    eventsPublished: 0,
    pushesSeen: 0,
    pushesUnreachable: 0,
    unreachable: {},
    pushesRetrying: 0,
    pushesGivenUp: 0,
    pushesDropped: 0,
    backlog: 0,
    comparesTruncated: 0,
    commitDiffs: 0,
    commitsUnreachable: 0,
    commitsGivenUp: 0,
    fallbackApiCalls: 0,
    fallbacksFinished: 0,
    pushesResuming: 0,
    tooEarly: false,
  };
}

/**
 * The work in a run's events: claims the ones with something to scan (so overlapping runs and pages
 * scan each once), scans their text at no API cost, and returns their pushes, which need a diff.
 * A repository made public goes to `onPublic` (the poller queues a sweep); without it, it is skipped.
 */
export async function claimEventWork(
  events: readonly GitHubEvent[],
  deps: {
    state: Pick<PollerState, "claimEvents">;
    prefixes: readonly string[];
    seenAt: string;
    onPublic?: (repo: string) => Promise<void>;
  },
  counters: Pick<PollCounters, "malformed" | "alreadySeen" | "bytesScanned" | "eventsScanned" | "pushesSeen">,
): Promise<{ mine: string[]; findings: Finding[]; newPushes: PushToScan[] }> {
  const works = events.map((event) => ({ event, work: workFor(event) }));
  for (const { work } of works) if (work.kind === "malformed") counters.malformed++;
  const actionable = works.filter(
    ({ work }) =>
      work.kind !== "nothing" && work.kind !== "malformed" && (work.kind !== "public" || deps.onPublic),
  );
  const claimed = await deps.state.claimEvents(actionable.map(({ event }) => event.id));
  counters.alreadySeen = actionable.length - claimed.size;
  const mine = actionable.filter(({ event }) => claimed.has(event.id));
  const findings: Finding[] = [];
  const newPushes: PushToScan[] = [];
  for (const { event, work } of mine) {
    if (work.kind === "text") {
      for (const item of work.texts) {
        counters.bytesScanned += Buffer.byteLength(item.text, "utf8");
        findings.push(...textFindings(item, event.repo.name, deps.prefixes, deps.seenAt));
      }
      counters.eventsScanned++;
    } else if (work.kind === "public") {
      await deps.onPublic?.(work.repo);
      counters.eventsScanned++;
    } else if (work.kind === "push") {
      newPushes.push(work.push);
    }
  }
  counters.pushesSeen = newPushes.length;
  return { mine: mine.map(({ event }) => event.id), findings, newPushes };
}

/** The counters diffing pushes moves; the poller's and the watcher's counters both carry them. */
export type DiffCounters = Pick<
  PollCounters,
  | "apiCalls"
  | "bytesScanned"
  | "diffsTruncated"
  | "pushesUnreachable"
  | "unreachable"
  | "pushesRetrying"
  | "pushesGivenUp"
  | "comparesTruncated"
  | "commitDiffs"
  | "commitsUnreachable"
  | "commitsGivenUp"
  | "fallbackApiCalls"
  | "fallbacksFinished"
  | "pushesResuming"
  | "stopped"
>;

/** What diffing a run's pushes leaves: findings, pushes finished, pushes to retry or resume later. */
export interface DiffedPushes {
  findings: Finding[];
  /** Diffed whole, unreachable, or given up: out of the backlog. */
  done: PushToScan[];
  /** Failed transiently (with backoff) or partly diffed (narrowed to what is left, due at once). */
  retryLater: PushToScan[];
  /** Pushes whose diff was read to the end. */
  scanned: number;
  /** The run-wide stop (rate limit, 401, deadline) that ended diff fetching. */
  stop?: GitHubRunStoppedError;
}

/**
 * Diffs pushes in the given order until `maxApiCalls` (the run's, counted in `counters.apiCalls`)
 * is spent or GitHub stops the run, classifying each result: unreachable pushes are done, transient
 * failures back off (given up after `maxDiffAttempts`), a truncated compare's unfinished fallback
 * resumes next run. What isn't reached is neither done nor retried: the caller's backlog keeps it.
 * The events poller and the watcher share it, so both treat GitHub the same way.
 */
export async function diffPushes(
  deps: {
    api: Pick<EventsApi, "pushDiff">;
    settings: Pick<
      PollSettings,
      "prefixes" | "maxDiffFiles" | "maxDiffBytes" | "webUrl" | "maxDiffAttempts" | "diffRetryBaseMs"
    >;
    seenAt: string;
    now: Date;
  },
  pushes: readonly PushToScan[],
  counters: DiffCounters,
  maxApiCalls: number,
): Promise<DiffedPushes> {
  const { settings } = deps;
  const out: DiffedPushes = { findings: [], done: [], retryLater: [], scanned: 0 };
  const retryOrGiveUp = (push: PushToScan): void => {
    const attempts = (push.attempts ?? 0) + 1;
    if (attempts >= settings.maxDiffAttempts) {
      counters.pushesGivenUp++;
      out.done.push(push);
      return;
    }
    counters.pushesRetrying++;
    const backoff = settings.diffRetryBaseMs * 4 ** (attempts - 1);
    out.retryLater.push({ ...push, attempts, retryAt: new Date(deps.now.getTime() + backoff).toISOString() });
  };
  for (const push of pushes) {
    const callsLeft = maxApiCalls - counters.apiCalls;
    if (out.stop || callsLeft < 1) break;
    let result: DiffResult;
    try {
      // Every call the diff makes counts: the repo lookup, the compare, a fallback's pages and commits.
      result = await deps.api.pushDiff(push, { maxCalls: callsLeft });
      counters.apiCalls += result.apiCalls;
    } catch (error) {
      if (error instanceof GitHubRunStoppedError) {
        counters.apiCalls += error.apiCalls ?? 1;
        out.stop = error;
        counters.stopped = error.reason;
        break;
      }
      // Anything else about one push (a bug, a body we can't read) is that push's problem only.
      counters.apiCalls += 1;
      result = { kind: "retry", reason: "error", apiCalls: 1 };
    }
    if (result.kind === "unreachable") {
      counters.pushesUnreachable++;
      counters.unreachable[result.reason] = (counters.unreachable[result.reason] ?? 0) + 1;
      out.done.push(push);
      continue;
    }
    if (result.kind === "retry") {
      retryOrGiveUp(push);
      continue;
    }
    const scanned = scanPushDiff(push, result.parts, settings, deps.seenAt);
    out.findings.push(...scanned.findings);
    counters.diffsTruncated += scanned.truncated;
    counters.bytesScanned += scanned.bytesScanned;
    if (result.fallback) countFallback(counters, result.fallback);
    if (result.rest) {
      // Part of the push waits: narrowed to what is left, so a later run resumes where this one stopped.
      if (result.rest.reason === "transient") retryOrGiveUp(result.rest.push);
      else {
        counters.pushesResuming++;
        // Due at once, and ranked ahead of newer pushes (byFetchOrder): the calls spent aren't wasted.
        out.retryLater.push({ ...result.rest.push, retryAt: deps.now.toISOString() });
      }
      if (result.stop) {
        out.stop = result.stop;
        counters.stopped = result.stop.reason;
      }
      continue;
    }
    if (result.fallback) counters.fallbacksFinished++;
    out.scanned++;
    out.done.push(push);
  }
  return out;
}

function countFallback(counters: DiffCounters, fallback: CommitFallback): void {
  if (fallback.truncation !== "first_push") counters.comparesTruncated++;
  counters.commitDiffs += fallback.commitDiffs;
  counters.commitsUnreachable += fallback.commitsUnreachable.length;
  counters.commitsGivenUp += fallback.commitsGivenUp;
  counters.fallbackApiCalls += fallback.apiCalls;
}

interface FetchedEvents {
  events: GitHubEvent[];
  etag?: string;
  pollIntervalSeconds?: number;
  notModified: boolean;
}

async function fetchNewEvents(
  deps: PollDeps,
  cursor: PollerCursor,
  counters: PollCounters,
): Promise<FetchedEvents> {
  const { api, settings } = deps;
  const byId = new Map<string, GitHubEvent>();
  let etag: string | undefined;
  let pollIntervalSeconds: number | undefined;
  for (let page = 1; page <= settings.maxPages && counters.apiCalls < settings.maxApiCalls; page++) {
    counters.apiCalls++;
    const result = await api.listPublicEvents({
      page,
      perPage: settings.perPage,
      ...(page === 1 && cursor.etag ? { etag: cursor.etag } : {}),
    });
    if (page === 1) {
      etag = result.etag;
      pollIntervalSeconds = result.pollIntervalSeconds;
    }
    if (result.status === 304) {
      counters.notModified++;
      return { events: [], etag: cursor.etag, pollIntervalSeconds, notModified: true };
    }
    let overlaps = false;
    for (const raw of result.events) {
      const parsed = GitHubEventSchema.safeParse(raw);
      if (!parsed.success) {
        counters.malformed++;
        continue;
      }
      // Pages shift while we read them: the same event can appear on two pages.
      if (!byId.has(parsed.data.id)) byId.set(parsed.data.id, parsed.data);
      if (cursor.newestId !== undefined && compareEventIds(parsed.data.id, cursor.newestId) <= 0)
        overlaps = true;
    }
    if (overlaps || !result.hasNext) break;
  }
  const events = [...byId.values()].sort((a, b) => compareEventIds(a.id, b.id));
  return {
    events,
    ...(etag ? { etag } : {}),
    ...(pollIntervalSeconds !== undefined ? { pollIntervalSeconds } : {}),
    notModified: false,
  };
}

/**
 * One poll of GitHub's public events: fetch the new pages (conditional on the ETag), claim each
 * event in the seen set so overlapping pages and concurrent invocations scan it once, scan the
 * text events at no API cost, fetch push diffs by priority within the run's API budget (the rest
 * waits in a bounded backlog), queue a sweep for repos made public, and record every key found.
 * One bad push never blocks the run: each diff failure is classified (DiffResult) and the run moves
 * on; only a run-wide stop (rate limit, 401, deadline) ends diff fetching, and even then the text
 * findings are recorded and the claims completed.
 */
export async function pollEvents(deps: PollDeps): Promise<PollCounters> {
  const { state, settings } = deps;
  const counters = emptyPollCounters();
  const started = deps.now();
  const seenAt = started.toISOString();
  const cursor = await state.loadCursor();
  if (cursor.nextPollAt && started.getTime() + settings.earlyToleranceMs < Date.parse(cursor.nextPollAt)) {
    counters.tooEarly = true;
    return counters;
  }

  let fetched: FetchedEvents = { events: [], notModified: false };
  try {
    fetched = await fetchNewEvents(deps, cursor, counters);
  } catch (error) {
    if (!(error instanceof GitHubRunStoppedError)) throw error;
    counters.stopped = error.reason;
    await saveAfterStop(deps, cursor, error);
    return counters;
  }
  counters.eventsSeen = fetched.events.length;
  const oldest = fetched.events[0];
  const newest = fetched.events.at(-1);
  if (!fetched.notModified && isCoverageGap(cursor.newestId, oldest?.id)) counters.coverageGaps = 1;
  counters.eventsNew = fetched.events.filter(
    (event) => cursor.newestId === undefined || compareEventIds(event.id, cursor.newestId) > 0,
  ).length;
  if (cursor.newestId !== undefined && newest) {
    counters.eventsPublished = Math.max(eventIdSpan(cursor.newestId, newest.id), counters.eventsNew);
  }

  const { mine, findings, newPushes } = await claimEventWork(
    fetched.events,
    {
      state,
      prefixes: settings.prefixes,
      seenAt,
      onPublic: async (repo) => {
        await state.queueRepoSweep(repo);
        counters.reposQueued++;
      },
    },
    counters,
  );

  const diffBudget = Math.max(0, settings.maxApiCalls - counters.apiCalls);
  const backlog = await state.loadBacklog(settings.maxBacklog);
  const backlogIds = new Set(backlog.map((push) => push.eventId));
  const due = backlog.filter((push) => !push.retryAt || Date.parse(push.retryAt) <= started.getTime());
  const plan = planPushFetches([...due, ...newPushes], diffBudget);
  const done: PushToScan[] = [];
  const retryLater: PushToScan[] = [];
  const diffed = await diffPushes(
    { api: deps.api, settings, seenAt, now: started },
    plan.fetch,
    counters,
    settings.maxApiCalls,
  );
  findings.push(...diffed.findings);
  done.push(...diffed.done);
  retryLater.push(...diffed.retryLater);
  counters.pushesScanned += diffed.scanned;
  counters.eventsScanned += diffed.scanned;
  const stop = diffed.stop;

  try {
    if (findings.length > 0) await deps.recordFindings(findings);
  } catch (error) {
    // Nothing is lost: the events go back to unseen and are scanned again next run.
    await state.releaseEvents(mine);
    throw error;
  }
  counters.findings = findings.length;
  // Deferred pushes stay claimed: the backlog, not the seen set, carries them to a later run.
  await state.completeEvents(mine);
  const saved = await saveBacklog(state, settings.maxBacklog, {
    backlog,
    backlogIds,
    newPushes,
    done,
    retryLater,
  });
  counters.pushesDropped = saved.dropped;
  counters.skippedByBudget = saved.newlyWaiting;
  counters.backlog = saved.kept;

  const next: PollerCursor = {
    ...cursor,
    coverageGaps: cursor.coverageGaps + counters.coverageGaps,
  };
  if (fetched.etag) next.etag = fetched.etag;
  if (newest && (cursor.newestId === undefined || compareEventIds(newest.id, cursor.newestId) > 0)) {
    next.newestId = newest.id;
  }
  const waitMs = Math.max((fetched.pollIntervalSeconds ?? 0) * 1000, 0);
  const retryAt = stop?.retryAt?.getTime() ?? 0;
  const nextPoll = Math.max(started.getTime() + waitMs, retryAt);
  if (nextPoll > started.getTime()) next.nextPollAt = new Date(nextPoll).toISOString();
  else delete next.nextPollAt;
  await state.saveCursor(next);
  return counters;
}

/**
 * The backlog after a run: what was waiting, minus what is done, plus the new pushes not fetched
 * and the failed or narrowed ones with their backoff; ranked like fetches and cut at `maxBacklog`,
 * the dropped ones counted (a firehose outruns any budget: what isn't diffed must show, not starve
 * silently). The poller and the watcher keep their backlogs this way, each in its own namespace.
 */
export async function saveBacklog(
  state: Pick<PollerState, "addToBacklog" | "removeFromBacklog">,
  maxBacklog: number,
  run: {
    backlog: PushToScan[];
    backlogIds: Set<string>;
    newPushes: PushToScan[];
    done: PushToScan[];
    retryLater: PushToScan[];
  },
): Promise<{ dropped: number; kept: number; newlyWaiting: number }> {
  const doneIds = new Set(run.done.map((push) => push.eventId));
  const retried = new Map(run.retryLater.map((push) => [push.eventId, push]));
  const waiting = new Map<string, PushToScan>();
  for (const push of [...run.backlog, ...run.newPushes]) {
    if (doneIds.has(push.eventId)) continue;
    waiting.set(push.eventId, retried.get(push.eventId) ?? push);
  }
  const ranked = [...waiting.values()].sort(byFetchOrder);
  const kept = ranked.slice(0, maxBacklog);
  const keptIds = new Set(kept.map((push) => push.eventId));
  await state.addToBacklog(
    kept.filter((push) => !run.backlogIds.has(push.eventId) || retried.has(push.eventId)),
  );
  await state.removeFromBacklog(
    run.backlog.filter((push) => doneIds.has(push.eventId) || !keptIds.has(push.eventId)),
  );
  return {
    dropped: ranked.length - kept.length,
    kept: kept.length,
    newlyWaiting: kept.filter((push) => !run.backlogIds.has(push.eventId)).length,
  };
}

async function saveAfterStop(
  deps: PollDeps,
  cursor: PollerCursor,
  error: GitHubRunStoppedError,
): Promise<void> {
  if (!error.retryAt) return;
  await deps.state.saveCursor({ ...cursor, nextPollAt: error.retryAt.toISOString() });
}
