import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFirehose, type Firehose } from "../../standin/github/github-firehose.js";
import { type GitHubStandIn, startGitHubStandIn } from "../../standin/github/github-stand-in.js";

let firehose: Firehose;
let standIn: GitHubStandIn;

beforeAll(async () => {
  firehose = createFirehose({
    seed: 9,
    eventsPerMinute: 4_000,
    plantEvery: 0,
    failureRates: { server_error: 0.02, blocked: 0.02 },
  });
  standIn = await startGitHubStandIn({ firehose, slowMs: 10 });
  standIn.advance(60_000);
});

afterAll(async () => {
  await standIn.stop();
});

const get = (path: string) =>
  fetch(`${standIn.url}${path}`, { headers: { accept: "application/vnd.github.diff" } });

describe("firehose mode", () => {
  it("publishes the configured volume a minute, 80-90 % of it PushEvents with the current payload", () => {
    const pushes = firehose.pushes.length;
    expect(firehose.published()).toBe(4_000);
    expect(pushes / 4_000).toBeGreaterThan(0.8);
    expect(pushes / 4_000).toBeLessThan(0.9);
  });

  it("shows only the newest 300 events on /events, newest first", async () => {
    const pages = await Promise.all([1, 2, 3, 4].map((page) => get(`/events?per_page=100&page=${page}`)));
    const events = (await Promise.all(pages.map((r) => r.json()))) as { id: string; payload: object }[][];
    const ids = events.flat().map((e) => BigInt(e.id));
    expect(ids.length).toBe(300);
    expect(ids[0]).toBe(50_000_000_000n + 3_999n);
    const push = events.flat().find((e) => "push_id" in e.payload);
    expect(Object.keys(push?.payload ?? {}).sort()).toEqual([
      "before",
      "head",
      "push_id",
      "ref",
      "repository_id",
    ]);
    expect(pages[0]?.headers.get("x-poll-interval")).toBe("60");
  });

  it("answers a blocked push's diff with 403 every time, a 5xx push with 502 once and then the diff", async () => {
    const blocked = firehose.pushes.find((p) => p.failure === "blocked");
    const flaky = firehose.pushes.find((p) => p.failure === "server_error");
    const diffPath = (p: typeof blocked) => `/repos/${p?.repo}/compare/${p?.before}...${p?.head}`;

    const statuses = [
      (await get(diffPath(blocked))).status,
      (await get(diffPath(blocked))).status,
      (await get(diffPath(flaky))).status,
      (await get(diffPath(flaky))).status,
    ];

    expect(statuses).toEqual([403, 403, 502, 200]);
  });

  it("refuses a too-large push's compare with 406 but serves its commit list and each commit's diff", async () => {
    const push = firehose.pushes.find((p) => p.failure === "too_large");
    const base = `/repos/${push?.repo}/compare/${push?.before}...${push?.head}`;
    const listing = await fetch(`${standIn.url}${base}?per_page=100`);
    const body = (await listing.json()) as { total_commits: number; commits: { sha: string }[] };
    const commitStatuses = await Promise.all(
      body.commits.map(async (c) => (await get(`/repos/${push?.repo}/commits/${c.sha}`)).status),
    );
    expect({
      compare: (await get(base)).status,
      listed: body.commits.map((c) => c.sha),
      someCommitServed: commitStatuses.includes(200),
    }).toEqual({ compare: 406, listed: push?.commits.map((c) => c.sha), someCommitServed: true });
  });
});

describe("keys planted in too-large pushes", () => {
  it("sit in a commit below the head, so only a commit-by-commit fallback finds them", () => {
    const hose = createFirehose({ seed: 4, eventsPerMinute: 8_000, plantEvery: 1_000_000 });
    hose.advance(5 * 60_000);
    const inTooLarge = hose.planted.filter((p) => p.failure === "too_large");
    expect(inTooLarge.length).toBeGreaterThan(0);
    expect(inTooLarge.every((p) => p.planted?.commit !== p.head && p.commits.length >= 3)).toBe(true);
  });
});
