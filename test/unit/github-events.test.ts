import { describe, expect, it } from "vitest";
import {
  capDiff,
  compareEventIds,
  type GitHubEvent,
  isCoverageGap,
  type PushToScan,
  planPushFetches,
  workFor,
} from "../../lambdas/domain/github-events.js";

function event(type: string, payload: Record<string, unknown>): GitHubEvent {
  return { id: "1", type, repo: { id: 1, name: "acme/app" }, payload, created_at: "2026-01-15T10:00:00Z" };
}

function push(eventId: string, ref: string): PushToScan {
  return { eventId, repo: "acme/app", ref, head: "b".repeat(40), before: "a".repeat(40) };
}

describe("scannable text per event type", () => {
  it("takes a review's body from a PullRequestReviewEvent", () => {
    const url = "https://github.com/acme/app/pull/7#pullrequestreview-80";
    const work = workFor(
      event("PullRequestReviewEvent", { action: "created", review: { body: "LGTM", html_url: url } }),
    );
    expect(work).toEqual({ kind: "text", texts: [{ text: "LGTM", kind: "review", url }] });
  });

  it("has nothing to do for a PullRequestEvent without title or body (the post-October-2025 payload)", () => {
    const work = workFor(event("PullRequestEvent", { action: "opened", number: 7, pull_request: { id: 1 } }));
    expect(work).toEqual({ kind: "nothing" });
  });

  it("has nothing to do for a review with an empty body", () => {
    const url = "https://github.com/acme/app/pull/7#pullrequestreview-81";
    const work = workFor(event("PullRequestReviewEvent", { review: { body: null, html_url: url } }));
    expect(work).toEqual({ kind: "nothing" });
  });

  it("takes a comment's body and URL from an IssueCommentEvent", () => {
    const work = workFor(
      event("IssueCommentEvent", {
        action: "created",
        issue: {},
        comment: { body: "hello", html_url: "https://github.com/acme/app/issues/1#issuecomment-2" },
      }),
    );
    expect(work).toEqual({
      kind: "text",
      texts: [
        { text: "hello", kind: "issue_comment", url: "https://github.com/acme/app/issues/1#issuecomment-2" },
      ],
    });
  });

  it("takes a release's name and body", () => {
    const work = workFor(
      event("ReleaseEvent", {
        release: { name: "v1", body: "notes", html_url: "https://github.com/acme/app/releases/tag/v1" },
      }),
    );
    expect(work.kind === "text" && work.texts.map((t) => t.kind)).toEqual(["release_name", "release"]);
  });

  it("turns a post-October-2025 PushEvent into a diff to fetch", () => {
    const work = workFor(
      event("PushEvent", {
        repository_id: 1,
        push_id: 2,
        ref: "refs/heads/main",
        head: "b".repeat(40),
        before: "a".repeat(40),
      }),
    );
    expect(work).toMatchObject({ kind: "push", push: { repo: "acme/app", ref: "refs/heads/main" } });
  });

  it("has nothing to fetch for a deleted branch", () => {
    const work = workFor(
      event("PushEvent", {
        repository_id: 1,
        push_id: 2,
        ref: "refs/heads/x",
        head: "0".repeat(40),
        before: "a".repeat(40),
      }),
    );
    expect(work.kind).toBe("nothing");
  });

  it("queues a sweep for a PublicEvent", () => {
    expect(workFor(event("PublicEvent", {}))).toEqual({ kind: "public", repo: "acme/app" });
  });

  it("calls a payload that doesn't fit its type malformed", () => {
    expect(workFor(event("PushEvent", { ref: "refs/heads/main", head: "nope" })).kind).toBe("malformed");
  });

  it("ignores events that carry no text", () => {
    expect(workFor(event("WatchEvent", { action: "started" })).kind).toBe("nothing");
  });
});

describe("event id order", () => {
  it("compares ids numerically beyond 2^53", () => {
    expect(compareEventIds("9999999999999999999", "10000000000000000000")).toBeLessThan(0);
    expect(compareEventIds("42", "41")).toBeGreaterThan(0);
  });
});

describe("coverage gaps", () => {
  it("is a gap when the oldest event fetched is newer than the newest seen before", () => {
    expect(isCoverageGap("100", "150")).toBe(true);
  });

  it("is no gap when the pages reach back to what was seen", () => {
    expect(isCoverageGap("100", "90")).toBe(false);
  });

  it("is no gap on the first poll", () => {
    expect(isCoverageGap(undefined, "90")).toBe(false);
  });
});

describe("push budget priority", () => {
  it("fetches default-branch pushes first, then other branches, then tags", () => {
    const plan = planPushFetches(
      [push("3", "refs/tags/v1"), push("2", "refs/heads/feature"), push("5", "refs/heads/main")],
      2,
    );
    expect(plan.fetch.map((p) => p.eventId)).toEqual(["5", "2"]);
    expect(plan.deferred.map((p) => p.eventId)).toEqual(["3"]);
  });

  it("takes the newest push first within a tier", () => {
    const plan = planPushFetches([push("4", "refs/heads/master"), push("9", "refs/heads/main")], 1);
    expect(plan.fetch.map((p) => p.eventId)).toEqual(["9"]);
  });

  it("finishes started work (a resumed fallback, a retry) before newer pushes of its tier, not of a higher one", () => {
    const resumed = { ...push("4", "refs/heads/feature"), retryAt: "2026-01-15T10:00:00Z" };
    const plan = planPushFetches([push("9", "refs/heads/feature"), resumed, push("7", "refs/heads/main")], 3);
    expect(plan.fetch.map((p) => p.eventId)).toEqual(["7", "4", "9"]);
  });
});

describe("diff caps", () => {
  const file = (name: string) =>
    `diff --git a/${name} b/${name}\n--- a/${name}\n+++ b/${name}\n@@ -0,0 +1 @@\n+x\n`;

  it("keeps at most maxFiles file sections", () => {
    const { text, truncated } = capDiff(file("a") + file("b") + file("c"), { maxFiles: 2, maxBytes: 1e6 });
    expect(text).toBe(file("a") + file("b"));
    expect(truncated).toBe(true);
  });

  it("cuts at a line end when over maxBytes", () => {
    const { text } = capDiff(file("a") + file("b"), { maxFiles: 10, maxBytes: file("a").length + 5 });
    expect(text.endsWith("\n")).toBe(true);
    expect(text.length).toBeLessThanOrEqual(file("a").length + 5);
  });

  it("leaves a diff within the caps whole", () => {
    expect(capDiff(file("a"), { maxFiles: 1, maxBytes: 1e6 })).toEqual({ text: file("a"), truncated: false });
  });
});
