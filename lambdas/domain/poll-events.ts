import { type Finding, FindingSchema, type Location, type RecordFindings } from "./finding.js";
import {
  blobUrl,
  capDiff,
  compareEventIds,
  type GitHubEvent,
  GitHubEventSchema,
  isCoverageGap,
  type PushToScan,
  planPushFetches,
  type ScannableText,
  workFor,
} from "./github-events.js";
import { scanBuffer } from "./key-scanner.js";

/** Why a run stopped talking to GitHub before its work was done. */
export type StopReason = "rate_limited" | "unavailable" | "deadline";

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
}

export interface EventsPage {
  status: 200 | 304;
  /** Unvalidated: each event is checked with GitHubEventSchema. */
  events: unknown[];
  etag?: string;
  pollIntervalSeconds?: number;
  hasNext: boolean;
}

/** The GitHub calls the poller makes (lambdas/adapters/github-events-api.ts). */
export interface EventsApi {
  listPublicEvents(input: { page: number; perPage: number; etag?: string }): Promise<EventsPage>;
  /** The push's diff in one API call (compare, or the head commit for a new branch). */
  pushDiff(push: PushToScan): Promise<string>;
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
}

export const DEFAULT_POLL_SETTINGS: Omit<PollSettings, "prefixes"> = {
  maxApiCalls: 60,
  perPage: 100,
  maxPages: 3,
  maxDiffFiles: 300,
  maxDiffBytes: 1_000_000,
  webUrl: "https://github.com",
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
  /** The poll was skipped: GitHub's X-Poll-Interval (or a rate-limit reset) hasn't passed. */
  tooEarly: boolean;
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
    tooEarly: false,
  };
}

function finding(keyHash: string, redacted: string, location: Location, seenAt: string): Finding {
  return FindingSchema.parse({ keyHash, redacted, source: "github_event", location, seenAt });
}

function scanText(item: ScannableText, repo: string, prefixes: readonly string[], seenAt: string): Finding[] {
  return scanBuffer(item.text, { prefixes, mode: "text" }).map((f) => {
    const location: Location = { url: item.url, repo, kind: item.kind, line: f.line };
    if (item.path) location.path = item.path;
    if (item.commit) location.commit = item.commit;
    return finding(f.keyHash, f.redacted, location, seenAt);
  });
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
 * waits in the backlog), queue a sweep for repos made public, and record every key found.
 */
export async function pollEvents(deps: PollDeps): Promise<PollCounters> {
  const { state, settings } = deps;
  const counters = emptyPollCounters();
  const started = deps.now();
  const seenAt = started.toISOString();
  const cursor = await state.loadCursor();
  if (cursor.nextPollAt && started < new Date(cursor.nextPollAt)) {
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

  const works = fetched.events.map((event) => ({ event, work: workFor(event) }));
  for (const { work } of works) if (work.kind === "malformed") counters.malformed++;
  const actionable = works.filter(({ work }) => work.kind !== "nothing" && work.kind !== "malformed");
  const claimed = await state.claimEvents(actionable.map(({ event }) => event.id));
  counters.alreadySeen = actionable.length - claimed.size;
  const mine = actionable.filter(({ event }) => claimed.has(event.id));

  const findings: Finding[] = [];
  const newPushes: PushToScan[] = [];
  for (const { event, work } of mine) {
    if (work.kind === "text") {
      for (const item of work.texts) {
        counters.bytesScanned += Buffer.byteLength(item.text, "utf8");
        findings.push(...scanText(item, event.repo.name, settings.prefixes, seenAt));
      }
      counters.eventsScanned++;
    } else if (work.kind === "public") {
      await state.queueRepoSweep(work.repo);
      counters.reposQueued++;
      counters.eventsScanned++;
    } else if (work.kind === "push") {
      newPushes.push(work.push);
    }
  }

  const diffBudget = Math.max(0, settings.maxApiCalls - counters.apiCalls);
  const backlog = await state.loadBacklog(Math.max(diffBudget, 1) * 4);
  const backlogIds = new Set(backlog.map((push) => push.eventId));
  const plan = planPushFetches([...backlog, ...newPushes], diffBudget);
  const done: PushToScan[] = [];
  const notDone: PushToScan[] = [...plan.deferred];
  let stop: GitHubRunStoppedError | undefined;
  for (const push of plan.fetch) {
    if (stop) {
      notDone.push(push);
      continue;
    }
    try {
      counters.apiCalls++;
      const diff = await deps.api.pushDiff(push);
      const capped = capDiff(diff, { maxFiles: settings.maxDiffFiles, maxBytes: settings.maxDiffBytes });
      if (capped.truncated) counters.diffsTruncated++;
      counters.bytesScanned += Buffer.byteLength(capped.text, "utf8");
      for (const f of scanBuffer(capped.text, { prefixes: settings.prefixes, mode: "diff" })) {
        const location: Location = { repo: push.repo, commit: push.head, kind: "push" };
        if (f.path) {
          location.path = f.path;
          location.line = f.line;
          location.url = blobUrl(settings.webUrl, push.repo, push.head, f.path, f.line);
        } else {
          location.url = `${settings.webUrl}/${push.repo}/commit/${push.head}`;
        }
        findings.push(finding(f.keyHash, f.redacted, location, seenAt));
      }
      counters.pushesScanned++;
      counters.eventsScanned++;
      done.push(push);
    } catch (error) {
      if (!(error instanceof GitHubRunStoppedError)) throw error;
      stop = error;
      counters.stopped = error.reason;
      notDone.push(push);
    }
  }
  counters.skippedByBudget = notDone.length;

  try {
    if (findings.length > 0) await deps.recordFindings(findings);
  } catch (error) {
    // Nothing is lost: the events go back to unseen and are scanned again next run.
    await state.releaseEvents(mine.map(({ event }) => event.id));
    throw error;
  }
  counters.findings = findings.length;
  // Deferred pushes stay claimed: the backlog, not the seen set, carries them to a later run.
  await state.completeEvents(mine.map(({ event }) => event.id));
  await state.addToBacklog(notDone.filter((push) => !backlogIds.has(push.eventId)));
  await state.removeFromBacklog(done.filter((push) => backlogIds.has(push.eventId)));

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

async function saveAfterStop(
  deps: PollDeps,
  cursor: PollerCursor,
  error: GitHubRunStoppedError,
): Promise<void> {
  if (!error.retryAt) return;
  await deps.state.saveCursor({ ...cursor, nextPollAt: error.retryAt.toISOString() });
}
