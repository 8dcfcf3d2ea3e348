import { z } from "zod";
import { capDiff, type PushToScan } from "../domain/github-events.js";
import {
  type CommitFallback,
  DEFAULT_POLL_SETTINGS,
  type DiffPart,
  type DiffResult,
  type EventsApi,
  type EventsPage,
  GitHubRunStoppedError,
  type PushDiffOptions,
  type RestReason,
} from "../domain/poll-events.js";
import { classifyGitHubError, type GitHubClient } from "./github-client.js";

const ZERO_SHA = /^0{40}$/;
const EventsArraySchema = z.array(z.unknown()).max(1000);
const RepoSchema = z.object({ default_branch: z.string().min(1).max(255) });
/** What the fallback reads of a compare page: how many commits, and each one's sha and first parent. */
const ComparePageSchema = z.object({
  total_commits: z.number().int().min(0),
  commits: z
    .array(
      z.object({
        sha: z.string().regex(/^[0-9a-f]{40}$/),
        parents: z.array(z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) })).max(100),
      }),
    )
    .max(250),
});

/** Compare pages are read 100 commits at a time (GitHub's maximum `per_page`). */
const COMMITS_PER_PAGE = 100;
/** What the first-push fallback reads of `GET /repos/{o}/{r}/commits`: newest first, sha and parents. */
const CommitListSchema = z
  .array(
    z.object({
      sha: z.string().regex(/^[0-9a-f]{40}$/),
      parents: z.array(z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) })).max(100),
    }),
  )
  .max(COMMITS_PER_PAGE);

export interface EventsApiOptions {
  /** A compare diff over these caps counts as truncated (the poller's own caps, by default). */
  maxDiffFiles?: number;
  maxDiffBytes?: number;
  /** A truncated push's fallback covers at most its newest this many commits; older ones are given up. */
  maxFallbackCommits?: number;
  /** Calls a pushDiff without `maxCalls` may make. */
  defaultMaxCalls?: number;
  /** A new repository's first push: the newest this many commits of its history are diffed. */
  maxFirstPushCommits?: number;
}

export const DEFAULT_MAX_FALLBACK_COMMITS = 250;
/**
 * A first push can carry a whole imported history (thousands of commits): its newest 50 are diffed
 * (about 51 calls, under a run's budget), older ones given up and counted; the code-search sweep
 * still sees the default branch's current files.
 */
export const DEFAULT_MAX_FIRST_PUSH_COMMITS = 50;
export const DEFAULT_PUSH_DIFF_MAX_CALLS = 10;

/** The budget ran out: the push waits for a later run, narrowed to what is left. */
class BudgetSpentError extends Error {
  constructor() {
    super("the push's call budget is spent");
    this.name = "BudgetSpentError";
  }
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = "", name = ""] = repo.split("/");
  return { owner, repo: name };
}

/** GitHub calls as the events poller needs them, on the shared client; failures become clean stops. */
export function createGitHubEventsApi(client: GitHubClient, options: EventsApiOptions = {}): EventsApi {
  const { octokit } = client;
  const caps = {
    maxFiles: options.maxDiffFiles ?? DEFAULT_POLL_SETTINGS.maxDiffFiles,
    maxBytes: options.maxDiffBytes ?? DEFAULT_POLL_SETTINGS.maxDiffBytes,
  };
  const maxFallbackCommits = options.maxFallbackCommits ?? DEFAULT_MAX_FALLBACK_COMMITS;
  const defaultMaxCalls = options.defaultMaxCalls ?? DEFAULT_PUSH_DIFF_MAX_CALLS;
  const maxFirstPushCommits = options.maxFirstPushCommits ?? DEFAULT_MAX_FIRST_PUSH_COMMITS;

  /** The feed itself failing stops the run; an unexpected answer (a 404 on /events) too, cleanly. */
  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const stop = client.stopErrorFor(error);
      if (stop) throw stop;
      const status = (error as { status?: number }).status;
      if (status === undefined) throw error;
      throw new GitHubRunStoppedError("unavailable", `GET /events answered ${status}`, { cause: error });
    }
  }

  /** One push's GitHub calls, counted against its budget; none is made once the budget is spent. */
  function budget(maxCalls: number) {
    let made = 0;
    return {
      get made() {
        return made;
      },
      async spend<T>(request: () => Promise<T>): Promise<T> {
        if (made >= maxCalls) throw new BudgetSpentError();
        made++;
        return request();
      },
    };
  }
  type Budget = ReturnType<typeof budget>;

  // No in-run retry of a diff: a slow or failing one is retried by a later run (with backoff),
  // so it can't eat the run's time while other pushes wait.
  const request = { retries: 0 };

  async function diffText(owner: string, repo: string, path: "compare" | "commit", ref: string) {
    const response =
      path === "commit"
        ? await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
            owner,
            repo,
            ref,
            mediaType: { format: "diff" },
            request,
          })
        : await octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
            owner,
            repo,
            basehead: ref,
            mediaType: { format: "diff" },
            request,
          });
    return typeof response.data === "string" ? response.data : "";
  }

  /**
   * A new branch (`before` = 40 zeros) is compared with the repository's default branch, so a key in
   * any of the branch's commits is seen, not only in its head commit. Undefined when the push is
   * to the default branch itself (a new repository's first push).
   */
  async function newBranchBase(owner: string, repo: string, push: PushToScan, calls: Budget) {
    const { data } = await calls.spend(() =>
      octokit.request("GET /repos/{owner}/{repo}", { owner, repo, request }),
    );
    const defaultBranch = RepoSchema.parse(data).default_branch;
    return push.ref === `refs/heads/${defaultBranch}` ? undefined : defaultBranch;
  }

  function diffResult(
    parts: DiffPart[],
    calls: Budget,
    extra: {
      fallback?: CommitFallback;
      rest?: { push: PushToScan; reason: RestReason };
      stop?: GitHubRunStoppedError;
    } = {},
  ): DiffResult {
    return { kind: "diff", text: parts.map((p) => p.text).join(""), parts, apiCalls: calls.made, ...extra };
  }

  /** The classified failure of a whole push (nothing of it read). */
  function failed(error: unknown, calls: Budget): DiffResult {
    const failure = classifyGitHubError(error);
    // Force-pushed away, repository deleted, blocked, DMCA'd: this push only.
    if (failure.kind === "unreachable") {
      return { kind: "unreachable", reason: failure.reason, apiCalls: calls.made };
    }
    const stop = client.stopErrorFor(error);
    if (stop) stop.apiCalls = calls.made;
    if (failure.kind === "transient") {
      // The run's own deadline cut the request: a stop, not this push's fault.
      if (stop?.reason === "deadline") throw stop;
      return { kind: "retry", reason: failure.reason, apiCalls: calls.made };
    }
    if (stop) throw stop;
    return { kind: "retry", reason: "error", apiCalls: calls.made };
  }

  /**
   * A truncated compare: list the commits of head not in base (compare JSON, 100 a page; without
   * paging GitHub lists at most 250) and diff each commit on its own, newest first, within the
   * budget. The newest `maxFallbackCommits` are covered, older ones given up (counted); what the
   * budget leaves is returned as the push narrowed to it: `before` = the commit just below the
   * covered ones (or the base), `head` = the newest commit not yet diffed.
   */
  async function commitFallback(
    owner: string,
    repo: string,
    push: PushToScan,
    base: string,
    truncation: CommitFallback["truncation"],
    parts: DiffPart[],
    calls: Budget,
  ): Promise<DiffResult> {
    const report: CommitFallback = {
      truncation,
      commitsListed: 0,
      commitDiffs: 0,
      commitsUnreachable: [],
      commitsGivenUp: 0,
      apiCalls: 0,
    };
    const spentBefore = calls.made;
    const pages = new Map<number, z.infer<typeof ComparePageSchema>["commits"]>();
    let floor = base;
    /** The newest commit (1-based position, oldest first) not yet diffed, and its sha when known. */
    let next = 0;
    let nextSha = push.head;
    const finish = (reason?: RestReason, stop?: GitHubRunStoppedError): DiffResult => {
      report.apiCalls = calls.made - spentBefore;
      return diffResult(parts, calls, {
        fallback: report,
        ...(reason ? { rest: { push: { ...push, before: floor, head: nextSha }, reason } } : {}),
        ...(stop ? { stop } : {}),
      });
    };
    const page = async (n: number) => {
      const cached = pages.get(n);
      if (cached) return cached;
      const { data } = await calls.spend(() =>
        octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
          owner,
          repo,
          basehead: `${base}...${push.head}`,
          per_page: COMMITS_PER_PAGE,
          page: n,
          request,
        }),
      );
      const parsed = ComparePageSchema.parse(data);
      report.commitsListed = parsed.total_commits;
      pages.set(n, parsed.commits);
      return parsed.commits;
    };
    const shaAt = (position: number) =>
      pages.get(Math.ceil(position / COMMITS_PER_PAGE))?.[(position - 1) % COMMITS_PER_PAGE]?.sha;

    try {
      await page(1);
      const total = report.commitsListed;
      next = total;
      const oldestCovered = Math.max(1, total - maxFallbackCommits + 1);
      if (oldestCovered > 1) {
        // The commit just below the covered ones becomes the base of any resumed compare.
        await page(Math.ceil((oldestCovered - 1) / COMMITS_PER_PAGE));
        floor = shaAt(oldestCovered - 1) ?? base;
        report.commitsGivenUp = oldestCovered - 1;
      }
      for (; next >= oldestCovered; next--) {
        let sha = shaAt(next);
        if (!sha) {
          // Until its page is read, the commit below the last one diffed is known as that one's parent.
          nextSha =
            pages.get(Math.ceil((next + 1) / COMMITS_PER_PAGE))?.[next % COMMITS_PER_PAGE]?.parents[0]?.sha ??
            nextSha;
          await page(Math.ceil(next / COMMITS_PER_PAGE));
          sha = shaAt(next);
        }
        if (!sha) break;
        nextSha = sha;
        await diffCommit(owner, repo, sha, parts, report, calls);
      }
      return finish();
    } catch (error) {
      return fallbackFailed(error, parts, calls, finish);
    }
  }

  /** How a fallback ends when a call fails: as far as it got, with what is left for a later run. */
  function fallbackFailed(
    error: unknown,
    parts: DiffPart[],
    calls: Budget,
    finish: (reason?: RestReason, stop?: GitHubRunStoppedError) => DiffResult,
  ): DiffResult {
    if (error instanceof BudgetSpentError) return finish("budget");
    const stop = client.stopErrorFor(error);
    const failure = classifyGitHubError(error);
    if (failure.kind === "transient" && stop?.reason !== "deadline") return finish("transient");
    if (stop) return finish("stopped", stop);
    // A listing GitHub refuses (force-pushed away, blocked): the push is as far as it got.
    if (failure.kind === "unreachable") {
      if (parts.length > 0) return finish();
      return { kind: "unreachable", reason: failure.reason, apiCalls: calls.made };
    }
    // An unreadable listing or anything unexpected: retried later, like a transient failure.
    return finish("transient");
  }

  /** One commit's own diff into `parts`; a commit GitHub refuses is unreachable alone. */
  async function diffCommit(
    owner: string,
    repo: string,
    sha: string,
    parts: DiffPart[],
    report: CommitFallback,
    calls: Budget,
  ): Promise<void> {
    try {
      const text = await calls.spend(() => diffText(owner, repo, "commit", sha));
      // A commit over the caps is scanned as far as the caps go (the poller counts it truncated).
      parts.push({ commit: sha, text });
      report.commitDiffs++;
    } catch (error) {
      if (error instanceof BudgetSpentError) throw error;
      const failure = classifyGitHubError(error);
      if (failure.kind !== "unreachable") throw error;
      report.commitsUnreachable.push({ sha, reason: failure.reason });
    }
  }

  /**
   * A new repository's first push (to its default branch, `before` = 40 zeros) has no base: every
   * commit of its history is new. Its commits are listed newest first (`GET /repos/{o}/{r}/commits?sha=`,
   * 100 a page) and diffed one by one within the budget, up to `maxFirstPushCommits` counted from the
   * push (`commitsCovered` carries the count across runs); what the budget leaves is the push narrowed
   * to the next commit not yet diffed.
   */
  async function firstPushFallback(owner: string, repo: string, push: PushToScan, calls: Budget) {
    const report: CommitFallback = {
      truncation: "first_push",
      commitsListed: 0,
      commitDiffs: 0,
      commitsUnreachable: [],
      commitsGivenUp: 0,
      apiCalls: 0,
    };
    const spentBefore = calls.made;
    const parts: DiffPart[] = [];
    let covered = push.commitsCovered ?? 0;
    let next: string | undefined = push.head;
    const finish = (reason?: RestReason, stop?: GitHubRunStoppedError): DiffResult => {
      report.apiCalls = calls.made - spentBefore;
      // Every commit refused (a blocked or DMCA'd repository answers so for each): the push is unreachable.
      const refused = report.commitsUnreachable[0];
      if (!reason && refused && report.commitDiffs === 0 && push.commitsCovered === undefined) {
        return { kind: "unreachable", reason: refused.reason, apiCalls: calls.made };
      }
      return diffResult(parts, calls, {
        fallback: report,
        ...(reason && next
          ? { rest: { push: { ...push, head: next, commitsCovered: covered }, reason } }
          : {}),
        ...(stop ? { stop } : {}),
      });
    };
    try {
      while (next && covered < maxFirstPushCommits) {
        const from: string = next;
        const { data } = await calls.spend(() =>
          octokit.request("GET /repos/{owner}/{repo}/commits", {
            owner,
            repo,
            sha: from,
            per_page: COMMITS_PER_PAGE,
            request,
          }),
        );
        const listed = CommitListSchema.parse(data);
        report.commitsListed += listed.length;
        // The page's last commit's parent starts the next page; none: the history's root was reached.
        next = undefined;
        for (const [i, commit] of listed.entries()) {
          if (covered >= maxFirstPushCommits) {
            report.commitsGivenUp += listed.length - i;
            next = undefined;
            break;
          }
          next = commit.sha;
          await diffCommit(owner, repo, commit.sha, parts, report, calls);
          covered++;
          next = commit.parents[0]?.sha;
        }
        if (listed.length < COMMITS_PER_PAGE) next = undefined;
      }
      return finish();
    } catch (error) {
      return fallbackFailed(error, parts, calls, finish);
    }
  }

  return {
    async listPublicEvents({ page, perPage, etag }): Promise<EventsPage> {
      return call(async () => {
        try {
          const response = await octokit.request("GET /events", {
            page,
            per_page: perPage,
            ...(etag ? { headers: { "if-none-match": etag } } : {}),
          });
          const headers = response.headers as Record<string, unknown>;
          const events = EventsArraySchema.safeParse(response.data);
          if (!events.success) {
            throw Object.assign(new Error("GET /events: response body is not a JSON array"), { status: 502 });
          }
          const interval = Number(header(headers, "x-poll-interval"));
          const result: EventsPage = {
            status: 200,
            events: events.data,
            hasNext: /rel="next"/.test(header(headers, "link") ?? ""),
          };
          const newEtag = header(headers, "etag");
          if (newEtag) result.etag = newEtag;
          if (Number.isFinite(interval) && interval > 0) result.pollIntervalSeconds = interval;
          return result;
        } catch (error) {
          if ((error as { status?: number }).status !== 304) throw error;
          const headers = ((error as { response?: { headers?: Record<string, unknown> } }).response
            ?.headers ?? {}) as Record<string, unknown>;
          const interval = Number(header(headers, "x-poll-interval"));
          return {
            status: 304,
            events: [],
            hasNext: false,
            ...(etag ? { etag } : {}),
            ...(Number.isFinite(interval) && interval > 0 ? { pollIntervalSeconds: interval } : {}),
          };
        }
      });
    },

    async pushDiff(push: PushToScan, diffOptions: PushDiffOptions = {}): Promise<DiffResult> {
      const { owner, repo } = splitRepo(push.repo);
      const calls = budget(Math.max(0, Math.floor(diffOptions.maxCalls ?? defaultMaxCalls)));
      let base: string | undefined = push.before;
      try {
        if (ZERO_SHA.test(push.before)) base = await newBranchBase(owner, repo, push, calls);
        // A new repository's first push has nothing to compare with: its history, commit by commit.
        if (base === undefined) return await firstPushFallback(owner, repo, push, calls);
        let text: string;
        try {
          text = await calls.spend(() => diffText(owner, repo, "compare", `${base}...${push.head}`));
        } catch (error) {
          const failure = classifyGitHubError(error);
          if (failure.kind !== "unreachable" || failure.reason !== "too_large") throw error;
          return await commitFallback(owner, repo, push, base, "too_large", [], calls);
        }
        const capped = capDiff(text, caps);
        if (!capped.truncated) return diffResult([{ commit: push.head, text }], calls);
        // What the caps kept is scanned now; the commits cover the rest.
        const kept = capped.text ? [{ commit: push.head, text: capped.text }] : [];
        return await commitFallback(owner, repo, push, base, "over_caps", kept, calls);
      } catch (error) {
        if (error instanceof BudgetSpentError) {
          // Not even the compare fitted: the push waits whole (a new branch with its base resolved).
          return diffResult([], calls, {
            rest: { push: base === undefined ? push : { ...push, before: base }, reason: "budget" },
          });
        }
        return failed(error, calls);
      }
    },
  };
}
