import { z } from "zod";

/**
 * GitHub public events as the poller reads them: the envelope, the payload fields it scans per
 * event type, and the policy deciding which push diffs a run fetches. Pure: no HTTP, no AWS.
 */

const RepoSchema = z.object({
  id: z.number().int(),
  name: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/)
    .max(200),
});

/** The envelope every event shares; payloads are checked per type by `scannableTextsOf`. */
export const GitHubEventSchema = z.object({
  id: z.string().regex(/^\d{1,30}$/),
  type: z.string().min(1).max(100),
  repo: RepoSchema,
  payload: z.record(z.string(), z.unknown()),
  public: z.boolean().optional(),
  created_at: z.string().max(64),
});
export type GitHubEvent = z.infer<typeof GitHubEventSchema>;

const Text = z.string().max(1_000_000).nullish();
const HtmlUrl = z.string().url().max(2048);

const CommentSchema = z.object({
  body: Text,
  html_url: HtmlUrl,
  path: z.string().max(1024).nullish(),
  commit_id: z.string().max(64).nullish(),
});

const PayloadSchemas = {
  IssuesEvent: z.object({ issue: z.object({ title: Text, body: Text, html_url: HtmlUrl }) }),
  IssueCommentEvent: z.object({ comment: CommentSchema }),
  CommitCommentEvent: z.object({ comment: CommentSchema }),
  PullRequestReviewCommentEvent: z.object({ comment: CommentSchema }),
  ReleaseEvent: z.object({
    release: z.object({
      name: Text,
      body: Text,
      html_url: HtmlUrl,
      tag_name: z.string().max(256).optional(),
    }),
  }),
  DiscussionEvent: z.object({ discussion: z.object({ title: Text, body: Text, html_url: HtmlUrl }) }),
  // Since October 2025 only title/body-less stubs; scanned when GitHub Enterprise still sends them.
  PullRequestEvent: z.object({
    pull_request: z.object({ title: Text, body: Text, html_url: HtmlUrl.optional() }).passthrough(),
  }),
  PullRequestReviewEvent: z.object({
    review: z.object({ body: Text, html_url: HtmlUrl, commit_id: z.string().max(64).nullish() }),
  }),
  PushEvent: z.object({
    repository_id: z.number().int(),
    push_id: z.number().int(),
    ref: z.string().max(1024),
    head: z.string().regex(/^[0-9a-f]{40}$/),
    before: z.string().regex(/^[0-9a-f]{40}$/),
  }),
} as const;

/** Text carried by an event, with where it lives. */
export interface ScannableText {
  text: string;
  /** Which field: "issue", "issue_comment", "commit_comment", "review_comment", "release", ... */
  kind: string;
  url: string;
  path?: string;
  commit?: string;
}

/** A push whose diff must be fetched. */
export interface PushToScan {
  eventId: string;
  repo: string;
  ref: string;
  /** The newest commit to diff: the pushed head, or for a resumed fallback the newest commit not yet diffed. */
  head: string;
  /**
   * What the diff is compared with: the commit before the push (40 zeros for a new branch), or for a
   * resumed fallback the base already resolved (the default branch, or the commit below the covered ones).
   */
  before: string;
  /** Earlier fetches that failed transiently (5xx, timeout). */
  attempts?: number;
  /** A resumed first push: commits of its history already diffed (the bound counts from the push). */
  commitsCovered?: number;
  /** ISO time before which a failed push is not fetched again (backoff); set too on a resumed fallback. */
  retryAt?: string;
}

export type EventWork =
  | { kind: "text"; texts: ScannableText[] }
  | { kind: "push"; push: PushToScan }
  | { kind: "public"; repo: string }
  | { kind: "nothing" }
  | { kind: "malformed"; reason: string };

const ZERO_SHA = /^0{40}$/;

function texts(
  parts: [string | null | undefined, string][],
  url: string,
  extra: Partial<ScannableText> = {},
) {
  return parts
    .filter((part): part is [string, string] => typeof part[0] === "string" && part[0].length > 0)
    .map(([text, kind]) => ({ text, kind, url, ...extra }));
}

/**
 * What the poller has to do for one event; a payload that doesn't fit its type is `malformed`, and
 * an event whose text fields are all empty (a PR event since October 2025) is `nothing`: it is not
 * claimed, and not counted as scanned.
 */
export function workFor(event: GitHubEvent): EventWork {
  const work = rawWorkFor(event);
  return work.kind === "text" && work.texts.length === 0 ? { kind: "nothing" } : work;
}

function rawWorkFor(event: GitHubEvent): EventWork {
  const schema = PayloadSchemas[event.type as keyof typeof PayloadSchemas];
  if (event.type === "PublicEvent") return { kind: "public", repo: event.repo.name };
  if (!schema) return { kind: "nothing" };
  const parsed = schema.safeParse(event.payload);
  if (!parsed.success)
    return { kind: "malformed", reason: `${event.type}: ${parsed.error.issues[0]?.message}` };
  const p: unknown = parsed.data;
  switch (event.type) {
    case "PushEvent": {
      const push = p as z.infer<typeof PayloadSchemas.PushEvent>;
      // A deleted ref has nothing new to scan.
      if (ZERO_SHA.test(push.head) || push.head === push.before) return { kind: "nothing" };
      return {
        kind: "push",
        push: {
          eventId: event.id,
          repo: event.repo.name,
          ref: push.ref,
          head: push.head,
          before: push.before,
        },
      };
    }
    case "IssuesEvent": {
      const { issue } = p as z.infer<typeof PayloadSchemas.IssuesEvent>;
      return {
        kind: "text",
        texts: texts(
          [
            [issue.title, "issue_title"],
            [issue.body, "issue"],
          ],
          issue.html_url,
        ),
      };
    }
    case "IssueCommentEvent":
    case "CommitCommentEvent":
    case "PullRequestReviewCommentEvent": {
      const { comment } = p as z.infer<typeof PayloadSchemas.IssueCommentEvent>;
      const kind = {
        IssueCommentEvent: "issue_comment",
        CommitCommentEvent: "commit_comment",
        PullRequestReviewCommentEvent: "review_comment",
      }[event.type];
      const extra: Partial<ScannableText> = {};
      if (comment.path) extra.path = comment.path;
      if (comment.commit_id) extra.commit = comment.commit_id;
      return { kind: "text", texts: texts([[comment.body, kind]], comment.html_url, extra) };
    }
    case "PullRequestReviewEvent": {
      const { review } = p as z.infer<typeof PayloadSchemas.PullRequestReviewEvent>;
      const extra: Partial<ScannableText> = review.commit_id ? { commit: review.commit_id } : {};
      return { kind: "text", texts: texts([[review.body, "review"]], review.html_url, extra) };
    }
    case "ReleaseEvent": {
      const { release } = p as z.infer<typeof PayloadSchemas.ReleaseEvent>;
      return {
        kind: "text",
        texts: texts(
          [
            [release.name, "release_name"],
            [release.body, "release"],
          ],
          release.html_url,
        ),
      };
    }
    case "DiscussionEvent": {
      const { discussion } = p as z.infer<typeof PayloadSchemas.DiscussionEvent>;
      return {
        kind: "text",
        texts: texts(
          [
            [discussion.title, "discussion_title"],
            [discussion.body, "discussion"],
          ],
          discussion.html_url,
        ),
      };
    }
    case "PullRequestEvent": {
      const { pull_request: pr } = p as z.infer<typeof PayloadSchemas.PullRequestEvent>;
      const url = pr.html_url ?? `https://github.com/${event.repo.name}/pulls`;
      return {
        kind: "text",
        texts: texts(
          [
            [pr.title, "pull_request_title"],
            [pr.body, "pull_request"],
          ],
          url,
        ),
      };
    }
    default:
      return { kind: "nothing" };
  }
}

/** Numeric comparison of GitHub event ids (decimal strings that outgrow 2^53). */
export function compareEventIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How many event ids lie after `previous` up to and including `newest` (0 when not newer). */
export function eventIdSpan(previous: string, newest: string): number {
  try {
    const span = BigInt(newest) - BigInt(previous);
    return span > 0n ? Number(span) : 0;
  } catch {
    return 0;
  }
}

/**
 * A coverage gap: events were published between the newest event of the previous poll and the
 * oldest one this poll could still see, so some were never seen. No previous poll: no gap.
 */
export function isCoverageGap(
  previousNewestId: string | undefined,
  oldestFetchedId: string | undefined,
): boolean {
  if (previousNewestId === undefined || oldestFetchedId === undefined) return false;
  return compareEventIds(oldestFetchedId, previousNewestId) > 0;
}

/** Branches treated as a repository's default branch (the events payload doesn't say which it is). */
const DEFAULT_BRANCHES = new Set([
  "refs/heads/main",
  "refs/heads/master",
  "refs/heads/trunk",
  "refs/heads/develop",
]);

/**
 * Priority of a push diff fetch, lower first. Documented policy (docs/github-scanners.md):
 * 0 pushes to a default-looking branch (what code search and clones will see), 1 other branches,
 * 2 tags; within a tier, the newest event first (a fresh leak is the one still worth acting on),
 * and the bounded backlog drops from the other end, counted.
 */
export function pushPriority(push: PushToScan): number {
  if (DEFAULT_BRANCHES.has(push.ref)) return 0;
  if (push.ref.startsWith("refs/heads/")) return 1;
  return 2;
}

export interface PushPlan {
  fetch: PushToScan[];
  /** Pushes the budget didn't reach: kept for a later run. */
  deferred: PushToScan[];
}

/**
 * The fetch order: priority tier, then work already started (a push with `retryAt`: a backoff retry
 * or a fallback resumed where a run's budget ended), then the newest event first. Started work goes
 * first so the calls already spent on it aren't wasted by newer pushes pushing it off the backlog.
 */
export function byFetchOrder(a: PushToScan, b: PushToScan): number {
  const started = (push: PushToScan) => (push.retryAt === undefined ? 1 : 0);
  return (
    pushPriority(a) - pushPriority(b) || started(a) - started(b) || compareEventIds(b.eventId, a.eventId)
  );
}

/** Orders pushes by priority (newest first within a tier) and takes as many as the budget allows. */
export function planPushFetches(pushes: readonly PushToScan[], budget: number): PushPlan {
  const ordered = [...pushes].sort(byFetchOrder);
  const take = Math.max(0, Math.floor(budget));
  return { fetch: ordered.slice(0, take), deferred: ordered.slice(take) };
}

/**
 * Caps a diff before scanning: at most `maxFiles` file sections and `maxBytes` bytes, cut at a
 * line end so no key is split. Returns the kept text and whether anything was dropped.
 */
export function capDiff(
  diff: string,
  caps: { maxFiles: number; maxBytes: number },
): { text: string; truncated: boolean } {
  let end = diff.length;
  let truncated = false;
  let files = 0;
  let at = diff.startsWith("diff --git ") ? 0 : diff.indexOf("\ndiff --git ");
  while (at !== -1) {
    files++;
    if (files > caps.maxFiles) {
      // Keep the previous section's last newline: `at` is the newline before "diff --git".
      end = at === 0 ? 0 : at + 1;
      truncated = true;
      break;
    }
    at = diff.indexOf("\ndiff --git ", at + 1);
  }
  let text = diff.slice(0, end);
  if (Buffer.byteLength(text, "utf8") > caps.maxBytes) {
    const cut = Buffer.from(text, "utf8").subarray(0, caps.maxBytes).toString("utf8");
    const lastNewline = cut.lastIndexOf("\n");
    text = lastNewline >= 0 ? cut.slice(0, lastNewline + 1) : "";
    truncated = true;
  }
  return { text, truncated };
}

/** Where a key in a pushed file can be seen: the blob at the pushed head, at the line. */
export function blobUrl(webUrl: string, repo: string, commit: string, path: string, line: number): string {
  const encodedPath = path.split("/").map(encodeURIComponent).join("/");
  return `${webUrl}/${repo}/blob/${commit}/${encodedPath}#L${line}`;
}
