import { describe, expect, it } from "vitest";
import { type FeedCursor, feedRequestOf, planFeedPolls } from "../../lambdas/domain/poll-watched-feeds.js";
import { feedsOf, type WatchEntry, WatchTargetSchema } from "../../lambdas/domain/watch-list.js";

function parse(raw: string) {
  return WatchTargetSchema.safeParse(raw);
}

function entry(project: string, raw: string, addedAt = "2026-01-01T00:00:00.000Z"): WatchEntry {
  return { project, target: WatchTargetSchema.parse(raw), addedAt };
}

describe("watch targets follow GitHub's naming rules", () => {
  it("reads an owner", () => {
    expect(parse("Octo-Cat").data).toEqual({ kind: "owner", owner: "Octo-Cat", id: "octo-cat" });
  });

  it("reads an owner/repo, keeping the typed spelling for display", () => {
    expect(parse("Octo-Cat/Hello.World_2").data).toEqual({
      kind: "repo",
      owner: "Octo-Cat",
      repo: "Hello.World_2",
      id: "octo-cat/hello.world_2",
    });
  });

  it("accepts a github.com URL and surrounding spaces", () => {
    expect(parse("  https://github.com/octocat/hello  ").data?.id).toBe("octocat/hello");
  });

  it.each([
    ["", "empty"],
    ["-octocat", "leading hyphen"],
    ["octocat-", "trailing hyphen"],
    ["octo_cat", "underscore in a login"],
    ["a".repeat(40), "40-character login"],
    ["/hello", "missing owner"],
    ["octocat/hello/world", "three parts"],
    ["octocat/..", "dot-dot repo"],
    ["octocat/hello.git", ".git suffix"],
    ["octocat/héllo", "non-ASCII repo"],
    [`octocat/${"r".repeat(101)}`, "101-character repo"],
  ])("refuses %j (%s) with a message", (raw) => {
    const parsed = parse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/\w/);
  });

  it("accepts the longest login (39 characters) and repo (100)", () => {
    expect(parse(`${"a".repeat(39)}/${"r".repeat(100)}`).success).toBe(true);
  });
});

describe("feed planning", () => {
  it("polls one feed per target, case-insensitively, however many projects watch it", () => {
    const feeds = feedsOf([
      entry("alpha", "OctoCat", "2026-01-02T00:00:00.000Z"),
      entry("beta", "octocat", "2026-01-01T00:00:00.000Z"),
      entry("alpha", "octocat/Hello"),
    ]);
    expect(feeds.map((feed) => [feed.id, feed.projects, feed.addedAt])).toEqual([
      ["owner:octocat", ["alpha", "beta"], "2026-01-01T00:00:00.000Z"],
      ["repo:octocat/hello", ["alpha"], "2026-01-01T00:00:00.000Z"],
    ]);
  });

  it("takes due feeds only, least recently read first", () => {
    const feeds = feedsOf([entry("p", "a"), entry("p", "b"), entry("p", "c"), entry("p", "d")]);
    const now = Date.parse("2026-01-01T01:00:00.000Z");
    const cursors = new Map<string, FeedCursor>([
      [
        "owner:a",
        {
          feedId: "owner:a",
          version: 1,
          lastPollAt: "2026-01-01T00:59:00.000Z",
          nextPollAt: "2026-01-01T01:00:03.000Z",
        },
      ],
      [
        "owner:b",
        {
          feedId: "owner:b",
          version: 1,
          lastPollAt: "2026-01-01T00:58:00.000Z",
          nextPollAt: "2026-01-01T00:59:00.000Z",
        },
      ],
      [
        "owner:c",
        {
          feedId: "owner:c",
          version: 1,
          lastPollAt: "2026-01-01T00:59:30.000Z",
          nextPollAt: "2026-01-01T01:00:30.000Z",
        },
      ],
    ]);
    const planned = planFeedPolls(feeds, cursors, now, 5_000).map((feed) => feed.id);
    // d was never read; a is 3 s early (within the tolerance); c is 30 s early (not due).
    expect(planned).toEqual(["owner:d", "owner:b", "owner:a"]);
  });

  it("reads an organization's events, a user's public events, a repository's events", () => {
    const [owner, repo] = feedsOf([entry("p", "github"), entry("p", "octocat/hello")]);
    expect(feedRequestOf(owner as never, "Organization")).toEqual({ kind: "org", owner: "github" });
    expect(feedRequestOf(owner as never, "User")).toEqual({ kind: "user", owner: "github" });
    expect(feedRequestOf(owner as never, undefined)).toBeUndefined();
    expect(feedRequestOf(repo as never, undefined)).toEqual({
      kind: "repo",
      owner: "octocat",
      repo: "hello",
    });
  });
});
