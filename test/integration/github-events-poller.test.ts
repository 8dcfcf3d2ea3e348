import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { createGitHubClient, type GitHubClient } from "../../lambdas/adapters/github-client.js";
import { createGitHubEventsApi } from "../../lambdas/adapters/github-events-api.js";
import { createGitHubScanState } from "../../lambdas/adapters/github-scan-state.js";
import type { FindingOutcome } from "../../lambdas/domain/finding.js";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import { DEFAULT_POLL_SETTINGS, type PollDeps, pollEvents } from "../../lambdas/domain/poll-events.js";
import {
  createRecordedShapeEventStream,
  type GitHubStandIn,
  startGitHubStandIn,
} from "../../standin/github/github-stand-in.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { collectingRecorder, manualClock } from "../support/github-scanning.js";

let standIn: GitHubStandIn;
let tables: TestTables;
let client: GitHubClient;

function setup(overrides: { maxApiCalls?: number; deadlineMs?: number } = {}) {
  const clock = manualClock();
  const recorder = collectingRecorder();
  client.setDeadline(Date.now() + (overrides.deadlineMs ?? 20_000));
  const deps: PollDeps = {
    api: createGitHubEventsApi(client),
    state: createGitHubScanState({ client: tables.client, tableName: tables.names.state, now: clock.now }),
    recordFindings: recorder.record,
    now: clock.now,
    settings: {
      ...DEFAULT_POLL_SETTINGS,
      prefixes: ["smk_"],
      ...(overrides.maxApiCalls !== undefined ? { maxApiCalls: overrides.maxApiCalls } : {}),
    },
  };
  return { deps, clock, recorder };
}

async function startWith(count: number, plantedKeys: number, publish: number | "all" = "all") {
  const stream = createRecordedShapeEventStream({ count, plantedKeys, pushRatio: 0.2, seed: 7 });
  standIn = await startGitHubStandIn({ stream, pollIntervalSeconds: 60 });
  standIn.publish(publish === "all" ? count : publish);
  client = createGitHubClient({
    baseUrl: standIn.url,
    token: "test-token",
    retryBaseMs: 20,
    timeoutMs: 5_000,
  });
  return stream;
}

beforeEach(async () => {
  tables = await createTestTables();
});

afterEach(async () => {
  await standIn?.stop();
  tables.client.destroy();
});

describe("finding planted keys through the stand-in", () => {
  it("finds a key in a push diff at its file, line and commit", async () => {
    const stream = await startWith(60, 6);
    const { deps, recorder } = setup();
    await pollEvents(deps);
    const planted = stream.planted.find((p) => p.kind === "push");
    const found = recorder.findings.find((f) => f.keyHash === planted?.keyHash);
    expect(found?.location).toEqual({
      repo: planted?.repo,
      commit: planted?.commit,
      path: planted?.path,
      line: planted?.line,
      url: planted?.url,
      kind: "push",
    });
  });

  it("finds a key in an issue comment with the comment's URL", async () => {
    const stream = await startWith(60, 6);
    const { deps, recorder } = setup();
    await pollEvents(deps);
    const planted = stream.planted.find((p) => p.kind === "issue_comment");
    const found = recorder.findings.find((f) => f.keyHash === planted?.keyHash);
    expect(found?.location).toMatchObject({
      url: planted?.url,
      repo: planted?.repo,
      kind: "issue_comment",
      line: 3,
    });
    expect(found?.source).toBe("github_event");
  });

  it("finds a key in a release body with the release's URL", async () => {
    const stream = await startWith(60, 6);
    const { deps, recorder } = setup();
    await pollEvents(deps);
    const planted = stream.planted.find((p) => p.kind === "release");
    const found = recorder.findings.find((f) => f.keyHash === planted?.keyHash);
    expect(found?.location).toMatchObject({ url: planted?.url, repo: planted?.repo, kind: "release" });
  });

  it("fetches each scanned push's diff with one API call, and a fallback one per commit", async () => {
    await startWith(200, 0);
    const { deps } = setup({ maxApiCalls: 1000 });
    const counters = await pollEvents(deps);
    const diffCalls = standIn.count(/\/(compare|commits)\//);
    expect(counters.pushesScanned).toBeGreaterThan(0);
    // A push diffed commit by commit (a first push, a truncated compare) costs its commits' diffs
    // (plus the refused compare) instead of the one compare.
    expect(diffCalls).toBe(
      counters.pushesScanned - counters.fallbacksFinished + counters.commitDiffs + counters.comparesTruncated,
    );
  });
});

describe("recording through the leak-response use case", () => {
  it("opens one incident per planted key with createFindingRecorder", async () => {
    const stream = await startWith(60, 6);
    const { deps } = setup();
    const recorder = createFindingRecorder({ client: tables.client, tables: tables.names });
    const outcomes: FindingOutcome[] = [];
    deps.recordFindings = async (findings) => {
      const result = await recorder(findings);
      outcomes.push(...result);
      return result;
    };
    await pollEvents(deps);
    expect(outcomes.map((o) => o.keyHash).sort()).toEqual(stream.planted.map((p) => p.keyHash).sort());
    expect(new Set(outcomes.map((o) => o.incidentId)).size).toBe(stream.planted.length);
    expect(outcomes.every((o) => o.status === "unknown" && o.newOccurrence)).toBe(true);
  });
});

describe("conditional requests", () => {
  it("answers an unchanged feed with 304 and scans nothing", async () => {
    await startWith(40, 2);
    const { deps, clock, recorder } = setup();
    await pollEvents(deps);
    const before = recorder.findings.length;
    clock.advance(61_000);
    const counters = await pollEvents(deps);
    expect(counters.notModified).toBe(1);
    expect(recorder.findings.length).toBe(before);
    expect(standIn.requests.filter((r) => r.path === "/events").at(-1)?.status).toBe(304);
  });

  it("waits for X-Poll-Interval before polling again", async () => {
    await startWith(40, 0);
    const { deps } = setup();
    await pollEvents(deps);
    const calls = standIn.count("/events");
    const counters = await pollEvents(deps);
    expect(counters.tooEarly).toBe(true);
    expect(standIn.count("/events")).toBe(calls);
  });
});

describe("rate limits and failures", () => {
  it("obeys a secondary limit's retry-after when it fits the run", async () => {
    await startWith(40, 2);
    standIn.injectFault({ path: "/events", kind: "secondary_limit", retryAfter: 1 });
    const { deps, recorder } = setup();
    await pollEvents(deps);
    const [limited, retried] = standIn.requests.filter((r) => r.path === "/events");
    expect(limited?.status).toBe(403);
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(recorder.findings.length).toBe(2);
  });

  it("stops within the run's budget when retry-after outlasts it, and records when to come back", async () => {
    await startWith(40, 2);
    standIn.injectFault({ path: "/events", kind: "secondary_limit", retryAfter: 120 });
    const { deps, clock } = setup({ deadlineMs: 3_000 });
    const started = Date.now();
    const counters = await pollEvents(deps);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(counters.stopped).toBe("rate_limited");
    const cursor = await deps.state.loadCursor();
    expect(Date.parse(cursor.nextPollAt ?? "")).toBeGreaterThan(clock.ms() + 60_000);
  });

  it("obeys a 429's retry-after when it fits the run", async () => {
    await startWith(40, 2);
    standIn.injectFault({ path: "/events", kind: "too_many_requests", retryAfter: 1 });
    const { deps, recorder } = setup();
    await pollEvents(deps);
    const [limited, retried] = standIn.requests.filter((r) => r.path === "/events");
    expect(limited?.status).toBe(429);
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(recorder.findings.length).toBe(2);
  });

  it("stops at a primary limit whose x-ratelimit-reset is past the deadline, and comes back after it", async () => {
    await startWith(40, 2);
    standIn.injectFault({ path: "/events", kind: "primary_limit", retryAfter: 600 });
    const { deps, clock } = setup({ deadlineMs: 5_000 });
    const counters = await pollEvents(deps);
    expect(counters.stopped).toBe("rate_limited");
    expect(standIn.count("/events")).toBe(1);
    const cursor = await deps.state.loadCursor();
    expect(Date.parse(cursor.nextPollAt ?? "")).toBeGreaterThan(clock.ms() + 500_000);
  });

  it("retries a 5xx, then gives up cleanly without throwing", async () => {
    await startWith(40, 2);
    standIn.injectFault({ path: "/events", kind: "server_error", status: 502, count: 10 });
    const { deps } = setup();
    const counters = await pollEvents(deps);
    expect(counters.stopped).toBe("unavailable");
    expect(standIn.count("/events")).toBe(3);
  });

  it("recovers when a 5xx clears within the retries", async () => {
    await startWith(40, 2);
    standIn.injectFault({ path: "/events", kind: "server_error", status: 503, count: 1 });
    const { deps, recorder } = setup();
    const counters = await pollEvents(deps);
    expect(counters.stopped).toBeUndefined();
    expect(recorder.findings.length).toBe(2);
  });

  it("skips and counts malformed events without failing the run", async () => {
    await startWith(40, 2);
    standIn.publishRaw({ id: "not-a-number", type: "PushEvent" });
    standIn.publishRaw({
      id: "99999999999",
      type: "PushEvent",
      repo: { id: 1, name: "octocat/broken", url: "https://api.github.com/repos/octocat/broken" },
      payload: { ref: "refs/heads/main", head: "nope" },
      created_at: "2026-01-15T10:00:00Z",
    });
    const { deps, recorder } = setup();
    const counters = await pollEvents(deps);
    expect(counters.malformed).toBe(2);
    expect(recorder.findings.length).toBe(2);
  });

  it("stops cleanly on a malformed JSON page", async () => {
    await startWith(40, 0);
    standIn.injectFault({ path: "/events", kind: "malformed_json", count: 5 });
    const { deps } = setup();
    const counters = await pollEvents(deps);
    expect(counters.stopped).toBe("unavailable");
  });
});

describe("each event scanned once", () => {
  it("never reports an event twice across overlapping polls", async () => {
    const stream = await startWith(120, 12, 60);
    const { deps, clock, recorder } = setup();
    await pollEvents(deps);
    standIn.publish(30);
    clock.advance(61_000);
    await pollEvents(deps);
    standIn.publish(30);
    clock.advance(61_000);
    await pollEvents(deps);
    const hashes = recorder.findings.map((f) => f.keyHash);
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(new Set(hashes)).toEqual(new Set(stream.planted.map((p) => p.keyHash)));
  });

  it("never reports an event twice when two invocations poll at once", async () => {
    const stream = await startWith(80, 8);
    const first = setup();
    const second = setup();
    await Promise.all([pollEvents(first.deps), pollEvents(second.deps)]);
    const hashes = [...first.recorder.findings, ...second.recorder.findings].map((f) => f.keyHash);
    expect(hashes.sort()).toEqual(stream.planted.map((p) => p.keyHash).sort());
  });
});

describe("coverage and budget", () => {
  it("counts a coverage gap when the feed moved past the last event seen", async () => {
    await startWith(500, 0, 20);
    const { deps, clock } = setup({ maxApiCalls: 1000 });
    await pollEvents(deps);
    standIn.publish(400);
    clock.advance(61_000);
    const counters = await pollEvents(deps);
    expect(counters.coverageGaps).toBe(1);
    expect((await deps.state.loadCursor()).coverageGaps).toBe(1);
  });

  it("counts no gap when the new pages overlap the last event seen", async () => {
    await startWith(200, 0, 100);
    const { deps, clock } = setup({ maxApiCalls: 1000 });
    await pollEvents(deps);
    standIn.publish(50);
    clock.advance(61_000);
    const counters = await pollEvents(deps);
    expect(counters.coverageGaps).toBe(0);
  });

  it("defers pushes beyond the API budget and scans them in a later run", async () => {
    const stream = await startWith(100, 6);
    const pushes = stream.events.filter((e) => e.type === "PushEvent").length;
    const { deps, clock, recorder } = setup({ maxApiCalls: 5 });
    const first = await pollEvents(deps);
    expect(first.skippedByBudget).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) {
      clock.advance(61_000);
      await pollEvents(deps);
    }
    expect(standIn.count(/\/(compare|commits)\//)).toBe(pushes);
    expect(new Set(recorder.findings.map((f) => f.keyHash))).toEqual(
      new Set(stream.planted.map((p) => p.keyHash)),
    );
  });

  it("queues a targeted sweep of a repository made public", async () => {
    await startWith(10, 0);
    standIn.publishRaw({
      id: "90000000000",
      type: "PublicEvent",
      actor: {
        id: 1,
        login: "octocat",
        gravatar_id: "",
        url: "https://api.github.com/users/octocat",
        avatar_url: "https://avatars.githubusercontent.com/u/1",
      },
      repo: { id: 2, name: "octocat/was-private", url: "https://api.github.com/repos/octocat/was-private" },
      payload: {},
      public: true,
      created_at: "2026-01-15T10:00:00Z",
    });
    const { deps } = setup();
    const counters = await pollEvents(deps);
    expect(counters.reposQueued).toBe(1);
    expect(
      await createGitHubScanState({ client: tables.client, tableName: tables.names.state }).queuedRepos(10),
    ).toEqual(["octocat/was-private"]);
  });
});

describe("new branches", () => {
  it("finds the recorded stream's new-branch key, planted in a commit below the head, at the branch's head", async () => {
    // Arrange: the 7th planted key of a recorded-shape stream goes to a new branch of 2-3 commits.
    const stream = await startWith(70, 7);
    const planted = stream.planted[6];
    const branch = stream.branches.find((b) => b.commits.at(-1) === planted?.commit);
    const { deps, recorder } = setup();

    // Act
    await pollEvents(deps);

    // Assert
    const found = recorder.findings.find((f) => f.keyHash === planted?.keyHash);
    expect({
      commitsInBranch: (branch?.commits.length ?? 0) >= 2,
      keyOnlyBelowHead: !(stream.diffs.get(`${planted?.repo}@${planted?.commit}`) ?? "").includes(
        planted?.key ?? "-",
      ),
      location: found?.location,
    }).toEqual({
      commitsInBranch: true,
      keyOnlyBelowHead: true,
      location: {
        repo: planted?.repo,
        commit: planted?.commit,
        path: planted?.path,
        line: planted?.line,
        url: planted?.url,
        kind: "push",
      },
    });
  });

  it("diffs a new branch against the repository's default branch, so a key in an earlier commit is found", async () => {
    // Arrange: a new-branch push whose head commit is clean, with a key in an earlier commit of the branch.
    const stream = await startWith(40, 0, 0);
    const key = generateKey();
    const head = "c".repeat(40);
    standIn.publishRaw({
      id: "99999999999",
      type: "PushEvent",
      repo: { id: 7, name: "acme/app" },
      payload: { repository_id: 7, push_id: 1, ref: "refs/heads/feature-x", head, before: "0".repeat(40) },
      public: true,
      created_at: "2026-01-15T10:00:00Z",
    });
    const file = (line: string) =>
      `diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n@@ -0,0 +1 @@\n+${line}\n`;
    stream.diffs.set(`acme/app@${head}`, file("DEBUG=1"));
    stream.diffs.set(`acme/app@main...${head}`, file(`SMELTER_API_KEY=${key}`) + file("DEBUG=1"));
    const { deps, recorder } = setup();

    // Act
    await pollEvents(deps);

    // Assert
    expect({
      found: recorder.findings.map((f) => f.keyHash),
      repoLookups: standIn.count(/^\/repos\/acme\/app$/),
      compares: standIn.count(`/repos/acme/app/compare/main...${head}`),
    }).toEqual({ found: [keyHash(key)], repoLookups: 1, compares: 1 });
  });
});

/** One commit's diff touching `files` files of its own (GitHub refuses a diff over 300 files with 406). */
function commitDiff(tag: string, files: number, keyLine?: string): string {
  const sections = Array.from(
    { length: files },
    (_, i) =>
      `diff --git a/${tag}/f${i}.ts b/${tag}/f${i}.ts\n--- a/${tag}/f${i}.ts\n+++ b/${tag}/f${i}.ts\n@@ -1 +1,2 @@\n x\n+export const v${i} = ${i};\n`,
  );
  if (keyLine)
    sections.splice(
      files >> 1,
      0,
      `diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n@@ -0,0 +1 @@\n+${keyLine}\n`,
    );
  return sections.join("");
}

/** A push of `commits` published as the newest event; returns their shas (numbered from 1), oldest first. */
function publishPush(repo: string, ref: string, before: string, commits: string[]): string[] {
  const shas = commits.map((_, i) => (i + 1).toString(16).padStart(40, "0"));
  standIn.addBranch(
    repo,
    before === "0".repeat(40) ? "main" : before,
    commits.map((diff, i) => ({ sha: shas[i] as string, diff })),
  );
  standIn.publishRaw({
    id: "99999999998",
    type: "PushEvent",
    repo: { id: 8, name: repo },
    payload: { repository_id: 8, push_id: 2, ref, head: shas.at(-1), before },
    public: true,
    created_at: "2026-01-15T10:00:00Z",
  });
  return shas;
}

describe("truncated compares fall back to the push's commits", () => {
  it("finds a key in the middle commit of a new branch whose compare answers 406", async () => {
    // Arrange: 3 commits of 120 files each (360 > GitHub's 300: the compare is refused), key in the middle one.
    await startWith(0, 0, 0);
    const key = generateKey();
    const shas = publishPush("acme/big", "refs/heads/import", "0".repeat(40), [
      commitDiff("a", 120),
      commitDiff("b", 120, `SMELTER_API_KEY=${key}`),
      commitDiff("c", 120),
    ]);
    const { deps, recorder } = setup();

    // Act
    const counters = await pollEvents(deps);

    // Assert: repo lookup, the refused compare, one page of commits, three commit diffs (+ 1 events page).
    const found = recorder.findings.find((f) => f.keyHash === keyHash(key));
    expect({
      commit: found?.location.commit,
      url: found?.location.url,
      comparesTruncated: counters.comparesTruncated,
      commitDiffs: counters.commitDiffs,
      pushesScanned: counters.pushesScanned,
      fallbacksFinished: counters.fallbacksFinished,
      apiCalls: counters.apiCalls,
      requests: standIn.requests.length,
      refused: standIn.requests.filter((r) => r.status === 406).length,
    }).toEqual({
      commit: shas[1],
      url: expect.stringContaining(`/acme/big/blob/${shas[1]}/.env#L1`),
      comparesTruncated: 1,
      commitDiffs: 3,
      pushesScanned: 1,
      fallbacksFinished: 1,
      apiCalls: 7,
      requests: 7,
      refused: 1,
    });
  });

  it("resumes a fallback the budget cut short in the next run, and finds the key then", async () => {
    // Arrange: 3 commits of 160 files; the key in the oldest; a budget of 5 calls a run.
    await startWith(0, 0, 0);
    const key = generateKey();
    const shas = publishPush("acme/big", "refs/heads/import", "0".repeat(40), [
      commitDiff("a", 160, `SMELTER_API_KEY=${key}`),
      commitDiff("b", 160),
      commitDiff("c", 160),
    ]);
    const { deps, recorder, clock } = setup({ maxApiCalls: 5 });

    // Act
    const first = await pollEvents(deps);
    const afterFirst = recorder.findings.length;
    clock.advance(61_000);
    const second = await pollEvents(deps);

    // Assert: each commit diffed once; run 2 compares only what is left (still over 300 files: 406 again).
    const commitRequests = shas.map((sha) => standIn.count(`/repos/acme/big/commits/${sha}`));
    expect({
      firstRun: [first.apiCalls, first.commitDiffs, first.pushesResuming, first.backlog, afterFirst],
      secondRun: [second.apiCalls, second.commitDiffs, second.pushesScanned, second.backlog],
      found: recorder.findings.map((f) => [f.keyHash, f.location.commit]),
      commitRequests,
      resumedCompare: standIn.count(`/repos/acme/big/compare/main...${shas[1]}`),
      requests: standIn.requests.length,
    }).toEqual({
      firstRun: [5, 1, 1, 1, 0],
      secondRun: [5, 2, 1, 0],
      found: [[keyHash(key), shas[0]]],
      commitRequests: [1, 1, 1],
      resumedCompare: 2,
      requests: 10,
    });
  });

  it("records a commit whose own diff is too large as unreachable and still scans the others", async () => {
    // Arrange: the oldest commit alone is over 300 files; the key sits in the newest.
    await startWith(0, 0, 0);
    const key = generateKey();
    publishPush("acme/big", "refs/heads/main", "f".repeat(40), [
      commitDiff("a", 350),
      commitDiff("b", 10),
      commitDiff("c", 10, `SMELTER_API_KEY=${key}`),
    ]);
    const { deps, recorder } = setup();

    // Act
    const counters = await pollEvents(deps);

    // Assert
    expect({
      found: recorder.findings.map((f) => f.keyHash),
      commitDiffs: counters.commitDiffs,
      commitsUnreachable: counters.commitsUnreachable,
      pushesScanned: counters.pushesScanned,
      pushesUnreachable: counters.pushesUnreachable,
      apiCalls: [counters.apiCalls, standIn.requests.length],
    }).toEqual({
      found: [keyHash(key)],
      commitDiffs: 2,
      commitsUnreachable: 1,
      pushesScanned: 1,
      pushesUnreachable: 0,
      apiCalls: [6, 6],
    });
  });

  it("falls back on an ordinary push whose compare is over the poller's caps, finding a key past them", async () => {
    // Arrange: 2 commits of 40 files (81 in all, within GitHub's limits); the poller keeps 50 files
    // of a diff, and the key is the newer commit's 21st file, past the cut.
    await startWith(0, 0, 0);
    const key = generateKey();
    const shas = publishPush("acme/app", "refs/heads/main", "e".repeat(40), [
      commitDiff("aa", 40),
      commitDiff("zz", 40, `SMELTER_API_KEY=${key}`),
    ]);
    const { deps, recorder } = setup();
    deps.api = createGitHubEventsApi(client, { maxDiffFiles: 50 });
    deps.settings = { ...deps.settings, maxDiffFiles: 50 };

    // Act
    const counters = await pollEvents(deps);

    // Assert
    expect({
      found: recorder.findings.map((f) => [f.keyHash, f.location.commit]),
      comparesTruncated: counters.comparesTruncated,
      commitDiffs: counters.commitDiffs,
    }).toEqual({ found: [[keyHash(key), shas[1]]], comparesTruncated: 1, commitDiffs: 2 });
  });

  it("pages through a long push's commits and gives up the oldest beyond the bound, counted", async () => {
    // Arrange: 260 commits of 2 files (GitHub refuses the compare); the fallback covers the newest 150.
    await startWith(0, 0, 0);
    const commits = Array.from({ length: 260 }, (_, i) => commitDiff(`l${i}`, 2));
    const shas = publishPush("acme/long", "refs/heads/import", "0".repeat(40), commits);
    const { deps } = setup({ maxApiCalls: 1000 });
    deps.api = createGitHubEventsApi(client, { maxFallbackCommits: 150 });

    // Act
    const counters = await pollEvents(deps);

    // Assert: pages 1 (the count), 2 (the commit below the covered ones), 3; the newest 150 commits diffed once.
    const diffed = shas.filter((sha) => standIn.count(`/repos/acme/long/commits/${sha}`) === 1);
    expect({
      commitDiffs: counters.commitDiffs,
      commitsGivenUp: counters.commitsGivenUp,
      diffed: [diffed.length, diffed[0], diffed.at(-1)],
      pages: standIn.requests.filter((r) => r.path.includes("/compare/") && r.query).map((r) => r.query),
      apiCalls: [counters.apiCalls, standIn.requests.length],
      pushesScanned: counters.pushesScanned,
    }).toEqual({
      commitDiffs: 150,
      commitsGivenUp: 110,
      diffed: [150, shas[110], shas[259]],
      pages: ["?per_page=100&page=1", "?per_page=100&page=2", "?per_page=100&page=3"],
      apiCalls: [156, 156],
      pushesScanned: 1,
    });
  });

  it("resumes across a page boundary from the parent of the oldest commit diffed", async () => {
    // Arrange: a push of 250 commits of 2 files onto main, the key in the oldest; 54 calls a run: the
    // 1st run diffs the 50 commits of page 3, and stops when page 2 would be read.
    await startWith(0, 0, 0);
    const key = generateKey();
    const commits = Array.from({ length: 250 }, (_, i) =>
      i === 0 ? commitDiff("l0", 1, `SMELTER_API_KEY=${key}`) : commitDiff(`l${i}`, 2),
    );
    const before = "b".repeat(40);
    const shas = publishPush("acme/long", "refs/heads/main", before, commits);
    const { deps, recorder, clock } = setup({ maxApiCalls: 54 });
    deps.api = createGitHubEventsApi(client, { maxFallbackCommits: 250 });

    // Act: run 2 resumes at commit 200 (406 again), run 3 at commit 150 (300 files: served whole).
    const runs = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await pollEvents(deps));
      clock.advance(61_000);
    }

    // Assert
    const perCommit = shas.map((sha) => standIn.count(`/repos/acme/long/commits/${sha}`));
    expect({
      commitDiffs: runs.map((r) => r.commitDiffs),
      scanned: runs.map((r) => r.pushesScanned),
      resumedFrom: [
        standIn.count(`/repos/acme/long/compare/${before}...${shas[199]}`) > 0,
        standIn.count(`/repos/acme/long/compare/${before}...${shas[149]}`),
      ],
      found: recorder.findings.map((f) => [f.keyHash, f.location.commit]),
      diffedOnce: perCommit.slice(150).every((n) => n === 1),
      olderNeverDiffed: perCommit.slice(0, 150).every((n) => n === 0),
    }).toEqual({
      commitDiffs: [50, 50, 0],
      scanned: [0, 0, 1],
      resumedFrom: [true, 1],
      found: [[keyHash(key), shas[149]]],
      diffedOnce: true,
      olderNeverDiffed: true,
    });
  });
});

describe("a fallback interrupted", () => {
  it("keeps what it read at a rate limit mid-fallback and resumes after the reset from the commit it stopped at", async () => {
    // Arrange: 3 commits of 120 files (406 compare), key in the oldest; the 2nd newest meets a primary limit.
    await startWith(0, 0, 0);
    const key = generateKey();
    const shas = publishPush("acme/big", "refs/heads/main", "d".repeat(40), [
      commitDiff("a", 120, `SMELTER_API_KEY=${key}`),
      commitDiff("b", 120),
      commitDiff("c", 120),
    ]);
    standIn.injectFault({
      path: `/repos/acme/big/commits/${shas[1]}`,
      kind: "primary_limit",
      retryAfter: 600,
    });
    const { deps, recorder, clock } = setup();

    // Act
    const limited = await pollEvents(deps);
    clock.advance(11 * 60_000);
    const after = await pollEvents(deps);

    // Assert: after the reset, what is left (2 commits, 241 files) fits one compare: the key is found at its head.
    expect({
      limited: [limited.stopped, limited.commitDiffs, limited.pushesResuming, limited.backlog],
      after: [after.stopped, after.pushesScanned, after.backlog],
      found: recorder.findings.map((f) => [f.keyHash, f.location.commit]),
      perCommit: shas.map((sha) => standIn.count(`/repos/acme/big/commits/${sha}`)),
    }).toEqual({
      limited: ["rate_limited", 1, 1, 1],
      after: [undefined, 1, 0],
      found: [[keyHash(key), shas[1]]],
      perCommit: [0, 1, 1],
    });
  });
});

describe("a new repository's first push is diffed commit by commit", () => {
  const ZERO = "0".repeat(40);

  it("finds a key in a commit below the head of a first push to the default branch", async () => {
    // Arrange: a new repository's first push (`before` = zeros, to main), the key in the middle commit.
    await startWith(0, 0, 0);
    const key = generateKey();
    const shas = publishPush("acme/new", "refs/heads/main", ZERO, [
      commitDiff("a", 2),
      commitDiff("b", 2, `SMELTER_API_KEY=${key}`),
      commitDiff("c", 2),
    ]);
    const { deps, recorder } = setup();

    // Act
    const counters = await pollEvents(deps);

    // Assert: events page, repository lookup, one commit-list page, three commit diffs.
    const found = recorder.findings.find((f) => f.keyHash === keyHash(key));
    expect({
      commit: found?.location.commit,
      listed: standIn.count(/^\/repos\/acme\/new\/commits\?/),
      commitDiffs: counters.commitDiffs,
      comparesTruncated: counters.comparesTruncated,
      pushesScanned: counters.pushesScanned,
      apiCalls: [counters.apiCalls, standIn.requests.length],
    }).toEqual({
      commit: shas[1],
      listed: 1,
      commitDiffs: 3,
      comparesTruncated: 0,
      pushesScanned: 1,
      apiCalls: [6, 6],
    });
  });

  it("resumes a first push the budget cut short, without diffing any commit twice", async () => {
    // Arrange: the key in the oldest of 3 commits; 4 calls a run (events, lookup, list, one diff).
    await startWith(0, 0, 0);
    const key = generateKey();
    const shas = publishPush("acme/new", "refs/heads/main", ZERO, [
      commitDiff("a", 2, `SMELTER_API_KEY=${key}`),
      commitDiff("b", 2),
      commitDiff("c", 2),
    ]);
    const { deps, recorder, clock } = setup({ maxApiCalls: 4 });

    // Act
    const first = await pollEvents(deps);
    const foundAfterFirst = recorder.findings.length;
    clock.advance(61_000);
    await pollEvents(deps);
    clock.advance(61_000);
    await pollEvents(deps);

    // Assert
    expect({
      first: [first.commitDiffs, first.pushesResuming, foundAfterFirst],
      found: recorder.findings.map((f) => [f.keyHash, f.location.commit]),
      commitRequests: shas.map((sha) => standIn.count(`/repos/acme/new/commits/${sha}`)),
    }).toEqual({
      first: [1, 1, 0],
      found: [[keyHash(key), shas[0]]],
      commitRequests: [1, 1, 1],
    });
  });

  it("diffs at most the newest maxFirstPushCommits of an imported history, counting the rest", async () => {
    // Arrange: a bound of 2; the key in the oldest of 3 commits.
    await startWith(0, 0, 0);
    const key = generateKey();
    publishPush("acme/import", "refs/heads/main", ZERO, [
      commitDiff("a", 2, `SMELTER_API_KEY=${key}`),
      commitDiff("b", 2),
      commitDiff("c", 2),
    ]);
    const { deps, recorder } = setup();
    deps.api = createGitHubEventsApi(client, { maxFirstPushCommits: 2 });

    // Act
    const counters = await pollEvents(deps);

    // Assert
    expect({
      found: recorder.findings.length,
      commitDiffs: counters.commitDiffs,
      commitsGivenUp: counters.commitsGivenUp,
      pushesScanned: counters.pushesScanned,
      backlog: counters.backlog,
    }).toEqual({ found: 0, commitDiffs: 2, commitsGivenUp: 1, pushesScanned: 1, backlog: 0 });
  });
});
