import { afterEach, describe, expect, it } from "vitest";
import { createGitHubClient, webUrlFor } from "../../lambdas/adapters/github-client.js";
import { createGitHubScanState } from "../../lambdas/adapters/github-scan-state.js";
import { createGitHubWatchApi } from "../../lambdas/adapters/github-watch-api.js";
import { WATCHER_NAMESPACE } from "../../lambdas/adapters/github-watcher-cycle.js";
import { createWatchListStore } from "../../lambdas/adapters/watch-list-store.js";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import {
  DEFAULT_WATCH_SETTINGS,
  pollWatchedFeeds,
  type WatchDeps,
} from "../../lambdas/domain/poll-watched-feeds.js";
import { WatchTargetSchema } from "../../lambdas/domain/watch-list.js";
import { createOwnerFeeds } from "../../standin/github/github-owner-feeds.js";
import { type GitHubStandIn, startGitHubStandIn } from "../../standin/github/github-stand-in.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { collectingRecorder, manualClock } from "../support/github-scanning.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const ZERO = "0".repeat(40);
let nextId = 90_000_000_000n;

function sha(n: number | bigint): string {
  return n.toString(16).padStart(40, "a");
}

/** A PushEvent with GitHub's current (October 2025) payload. */
function pushEvent(actor: string, repo: string, before: string, head: string, ref = "refs/heads/main") {
  const id = String(nextId++);
  return {
    id,
    type: "PushEvent",
    actor: {
      id: 1,
      login: actor,
      gravatar_id: "",
      url: `https://api.github.com/users/${actor}`,
      avatar_url: "https://avatars.githubusercontent.com/u/1?",
    },
    repo: { id: 7, name: repo, url: `https://api.github.com/repos/${repo}` },
    payload: { repository_id: 7, push_id: Number(nextId), ref, head, before },
    public: true,
    created_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

function diffWith(line: string): string {
  return `diff --git a/.env b/.env\nindex 1..2 100644\n--- a/.env\n+++ b/.env\n@@ -0,0 +1,2 @@\n+# config\n+${line}\n`;
}

interface World {
  t: TestTables;
  standIn: GitHubStandIn;
  deps: WatchDeps;
  clock: ReturnType<typeof manualClock>;
  findings: ReturnType<typeof collectingRecorder>["findings"];
  /** Publishes a push whose diff holds a fresh key; returns the key's hash and the event id. */
  leak(
    actor: string,
    repo: string,
    options?: { before?: string; ref?: string },
  ): { hash: string; id: string; head: string };
  runs(): Promise<Awaited<ReturnType<typeof pollWatchedFeeds>>>;
}

async function world(targets: string[]): Promise<World> {
  const t = await createTestTables();
  const ownerFeeds = createOwnerFeeds({
    owners: [
      { login: "Acme-Org", type: "Organization" },
      { login: "alice", type: "User" },
      { login: "bob", type: "User" },
    ],
  });
  const standIn = await startGitHubStandIn({ ownerFeeds, pollIntervalSeconds: 60 });
  stops.push(() => standIn.stop());
  const github = createGitHubClient({ baseUrl: standIn.url, token: "t", timeoutMs: 2_000, retries: 0 });
  // A finite deadline, as a Lambda has: a rate limit longer than the run stops it instead of waiting.
  github.setDeadline(Date.now() + 45_000);
  // A minute into a clock hour, so the hourly budget's test can't straddle an hour by chance.
  const clock = manualClock(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 60_000);
  const store = createWatchListStore({ client: t.client, tableName: t.names.watchList });
  for (const target of targets) {
    await store.add({
      project: "p",
      target: WatchTargetSchema.parse(target),
      addedAt: clock.now().toISOString(),
    });
  }
  const { record, findings } = collectingRecorder();
  const deps: WatchDeps = {
    api: createGitHubWatchApi(github),
    store,
    state: createGitHubScanState({
      client: t.client,
      tableName: t.names.state,
      now: clock.now,
      namespace: WATCHER_NAMESPACE,
    }),
    recordFindings: record,
    now: clock.now,
    settings: {
      ...DEFAULT_WATCH_SETTINGS,
      prefixes: ["smk_"],
      webUrl: webUrlFor(standIn.url),
      maxApiCalls: 50,
    },
  };
  let n = Number(nextId % 1_000_000n);
  return {
    t,
    standIn,
    deps,
    clock,
    findings,
    leak(actor, repo, options: { before?: string; ref?: string } = {}) {
      const key = generateKey("smk_");
      const head = sha(++n * 7919);
      const before = options.before ?? sha(n * 7919 + 1);
      standIn.addDiff(
        repo,
        options.before === ZERO ? "main" : before,
        head,
        diffWith(`SMELTER_API_KEY=${key}`),
      );
      const event = pushEvent(actor, repo, before, head, options.ref);
      standIn.publishRaw(event);
      return { hash: keyHash(key), id: event.id, head };
    },
    runs: () => pollWatchedFeeds(deps),
  };
}

const found = (w: World) => new Set(w.findings.map((f) => f.keyHash));

describe("the watcher reads each watched feed and diffs every push", () => {
  it("tells an organization from a user once, then reads /orgs/{org}/events, /users/{user}/events/public, /repos/{o}/{r}/events", async () => {
    const w = await world(["acme-org", "alice", "bob/tools"]);
    const leaks = [
      w.leak("dev1", "Acme-Org/api"),
      w.leak("alice", "alice/dotfiles"),
      w.leak("bob", "bob/tools"),
    ];
    const unwatched = w.leak("bob", "bob/other");

    const counters = await w.runs();

    expect(counters).toMatchObject({
      feeds: 3,
      feedsPolled: 3,
      ownersResolved: 2,
      pushesSeen: 3,
      pushesDiffed: 3,
    });
    expect(found(w)).toEqual(new Set(leaks.map((leak) => leak.hash)));
    expect(found(w).has(unwatched.hash)).toBe(false);
    expect(w.standIn.count(/^\/users\/[^/]+$/)).toBe(2);
    expect(w.standIn.count("/orgs/acme-org/events")).toBe(1);
    expect(w.standIn.count("/users/alice/events/public")).toBe(1);
    expect(w.standIn.count("/repos/bob/tools/events")).toBe(1);
    expect(w.findings.find((f) => f.keyHash === leaks[0]?.hash)?.location).toMatchObject({
      repo: "Acme-Org/api",
      commit: leaks[0]?.head,
      kind: "push",
      path: ".env",
      line: 2,
    });
  });

  it("asks again with the ETag: an unchanged feed is a 304 and costs no call; X-Poll-Interval is obeyed", async () => {
    const w = await world(["acme-org"]);
    w.leak("dev1", "Acme-Org/api");
    await w.runs();
    w.clock.advance(10_000);
    const early = await w.runs();
    expect(early.feedsPolled).toBe(0);
    w.clock.advance(55_000);
    const again = await w.runs();
    expect(again).toMatchObject({ feedsPolled: 1, feedsNotModified: 1, apiCalls: 0, pushesSeen: 0 });
    expect(w.standIn.requests.filter((r) => r.path === "/orgs/acme-org/events").map((r) => r.status)).toEqual(
      [200, 304],
    );
  });

  it("diffs a new branch against the default branch", async () => {
    const w = await world(["alice"]);
    const leak = w.leak("alice", "alice/site", { before: ZERO, ref: "refs/heads/feature" });
    const counters = await w.runs();
    expect(counters.pushesDiffed).toBe(1);
    expect(found(w).has(leak.hash)).toBe(true);
    expect(w.standIn.count(/^\/repos\/alice\/site\/compare\/main\.\.\./)).toBe(1);
  });

  it("covers a new branch whose compare answers 406 through its commits, the key in a middle one", async () => {
    // Arrange: 3 commits of 120 files (360 > GitHub's 300 files: the compare is refused), key in the 2nd.
    const w = await world(["alice"]);
    const key = generateKey("smk_");
    const files = (tag: string, keyLine?: string) =>
      Array.from(
        { length: 120 },
        (_, i) =>
          `diff --git a/${tag}/f${i}.ts b/${tag}/f${i}.ts\n--- a/${tag}/f${i}.ts\n+++ b/${tag}/f${i}.ts\n@@ -1 +1,2 @@\n x\n+export const v${i} = ${i};\n`,
      ).join("") + (keyLine ? diffWith(keyLine) : "");
    const shas = [sha(0xb1), sha(0xb2), sha(0xb3)];
    w.standIn.addBranch("alice/big", "main", [
      { sha: shas[0] as string, diff: files("a") },
      { sha: shas[1] as string, diff: files("b", `SMELTER_API_KEY=${key}`) },
      { sha: shas[2] as string, diff: files("c") },
    ]);
    w.standIn.publishRaw(pushEvent("alice", "alice/big", ZERO, shas[2] as string, "refs/heads/import"));

    // Act
    const counters = await w.runs();

    // Assert: found through the middle commit's own diff, located at that commit.
    const finding = w.findings.find((f) => f.keyHash === keyHash(key));
    expect({
      commit: finding?.location.commit,
      comparesTruncated: counters.comparesTruncated,
      commitDiffs: counters.commitDiffs,
      pushesDiffed: counters.pushesDiffed,
    }).toEqual({ commit: shas[1], comparesTruncated: 1, commitDiffs: 3, pushesDiffed: 1 });
  });

  it("retries a push whose diff answered 5xx in a later run, after its backoff", async () => {
    const w = await world(["alice"]);
    const leak = w.leak("alice", "alice/app");
    w.standIn.injectFault({
      path: new RegExp(`/compare/.*${leak.head}$`),
      kind: "server_error",
      status: 502,
    });
    const first = await w.runs();
    expect(first).toMatchObject({ pushesSeen: 1, pushesDiffed: 0, pushesRetrying: 1, backlog: 1 });
    expect(found(w).has(leak.hash)).toBe(false);
    w.clock.advance(DEFAULT_WATCH_SETTINGS.diffRetryBaseMs + 1_000);
    const second = await w.runs();
    expect(second).toMatchObject({ pushesDiffed: 1, backlog: 0 });
    expect(found(w).has(leak.hash)).toBe(true);
  });

  it("still diffs a watched push the public-events poller already claimed", async () => {
    const w = await world(["Acme-Org"]);
    const leak = w.leak("dev1", "acme-org/api");
    const poller = createGitHubScanState({
      client: w.t.client,
      tableName: w.t.names.state,
      now: w.clock.now,
    });
    expect(await poller.claimEvents([leak.id])).toEqual(new Set([leak.id]));
    const counters = await w.runs();
    expect(counters).toMatchObject({ alreadySeen: 0, pushesDiffed: 1 });
    expect(found(w).has(leak.hash)).toBe(true);
  });

  it("records a key in a watched repository's issue comment", async () => {
    const w = await world(["bob/tools"]);
    const key = generateKey("smk_");
    w.standIn.publishRaw({
      id: String(nextId++),
      type: "IssueCommentEvent",
      actor: {
        id: 2,
        login: "carol",
        gravatar_id: "",
        url: "https://api.github.com/users/carol",
        avatar_url: "https://avatars.githubusercontent.com/u/2?",
      },
      repo: { id: 8, name: "bob/tools", url: "https://api.github.com/repos/bob/tools" },
      payload: {
        action: "created",
        comment: { body: `try ${key}`, html_url: "https://github.com/bob/tools/issues/1#issuecomment-1" },
      },
      public: true,
      created_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    });
    const counters = await w.runs();
    expect(counters.eventsScanned).toBe(1);
    expect(w.findings.map((f) => [f.keyHash, f.source, f.location.kind])).toEqual([
      [keyHash(key), "github_event", "issue_comment"],
    ]);
  });

  it("records an unknown owner as unreachable and checks it again later, without stopping the others", async () => {
    const w = await world(["no-such-owner", "alice"]);
    const leak = w.leak("alice", "alice/app");
    const counters = await w.runs();
    expect(counters).toMatchObject({ feedsUnreachable: 1, pushesDiffed: 1 });
    expect(found(w).has(leak.hash)).toBe(true);
    const cursor = (await w.deps.store.loadFeedCursors()).get("owner:no-such-owner");
    expect(cursor?.unreachable).toBe("not_found");
    w.clock.advance(61_000);
    // Not asked again for an hour, and reported as unreachable rather than as a lagging feed.
    expect(await w.runs()).toMatchObject({ feedsUnreachable: 0, oldestFeedAgeSeconds: 0 });
  });

  it("spends at most the hour's share left, and diffs the rest once the next hour begins", async () => {
    const w = await world(["alice"]);
    w.deps.settings = { ...w.deps.settings, maxApiCallsPerHour: 5 };
    const leaks = [1, 2, 3, 4, 5, 6].map(() => w.leak("alice", "alice/app"));
    const first = await w.runs();
    // Two calls resolve alice and read her feed; three diffs fit the hour's five.
    expect(first).toMatchObject({ apiCalls: 5, pushesSeen: 6, pushesDiffed: 3, backlog: 3 });
    w.clock.advance(61_000);
    expect((await w.runs()).pushesDiffed).toBe(0);
    w.clock.advance(3_600_000);
    expect((await w.runs()).pushesDiffed).toBe(3);
    expect(found(w)).toEqual(new Set(leaks.map((leak) => leak.hash)));
  });

  it("backs off a feed that answers 5xx and reads the others meanwhile", async () => {
    const w = await world(["acme-org", "alice"]);
    const orgLeak = w.leak("dev1", "Acme-Org/api");
    const userLeak = w.leak("alice", "alice/app");
    w.standIn.injectFault({ path: "/orgs/acme-org/events", kind: "server_error", status: 503 });
    expect(await w.runs()).toMatchObject({ feedsRetrying: 1, pushesDiffed: 1 });
    expect(found(w)).toEqual(new Set([userLeak.hash]));
    w.clock.advance(61_000);
    await w.runs();
    expect(found(w)).toEqual(new Set([userLeak.hash, orgLeak.hash]));
  });

  it("on a feed's first read, skips events from well before the target was added", async () => {
    const w = await world(["alice"]);
    const key = generateKey("smk_");
    const old = pushEvent("alice", "alice/old", sha(1), sha(2));
    old.created_at = new Date(w.clock.ms() - 2 * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    w.standIn.addDiff("alice/old", sha(1), sha(2), diffWith(`KEY=${key}`));
    w.standIn.publishRaw(old);
    const fresh = w.leak("alice", "alice/app");
    expect(await w.runs()).toMatchObject({ pushesSeen: 1, pushesDiffed: 1 });
    expect(found(w)).toEqual(new Set([fresh.hash]));
  });

  it("stops the run cleanly on a rate limit, keeping the pushes for the next run", async () => {
    const w = await world(["alice"]);
    const leak = w.leak("alice", "alice/app");
    w.standIn.injectFault({
      path: new RegExp(`/compare/.*${leak.head}$`),
      kind: "primary_limit",
      retryAfter: 3600,
    });
    const first = await w.runs();
    expect(first).toMatchObject({ stopped: "rate_limited", pushesSeen: 1, pushesDiffed: 0, backlog: 1 });
    // Not asked again before the limit's reset.
    w.clock.advance(61_000);
    expect((await w.runs()).pushesDiffed).toBe(0);
    // The reset is an hour after the real time the limit was met (the test's clock starts earlier).
    w.clock.advance(2 * 3_600_000);
    const second = await w.runs();
    expect(second.pushesDiffed).toBe(1);
    expect(found(w).has(leak.hash)).toBe(true);
  });
});
