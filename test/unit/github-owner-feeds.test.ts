import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFirehose } from "../../standin/github/github-firehose.js";
import { createOwnerFeeds } from "../../standin/github/github-owner-feeds.js";
import { type GitHubStandIn, startGitHubStandIn } from "../../standin/github/github-stand-in.js";
import { responseValidator } from "../support/github-schemas.js";

let standIn: GitHubStandIn;

beforeAll(async () => {
  // The firehose: watched owners' pushes are part of the public feed, and of their own feeds.
  const firehose = createFirehose({
    seed: 5,
    eventsPerMinute: 4_000,
    watchedOwners: ["Acme-Org", "alice"],
    watchedPushShare: 0.05,
    plantEvery: 0,
  });
  standIn = await startGitHubStandIn({
    firehose,
    ownerFeeds: createOwnerFeeds({
      owners: [
        { login: "Acme-Org", type: "Organization" },
        { login: "alice", type: "User" },
      ],
    }),
  });
  // ~85 of the organization's pushes a minute: more than the 300 a feed lists.
  standIn.advance(5 * 60_000);
});

afterAll(async () => {
  await standIn.stop();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${standIn.url}${path}`, { headers });

describe("stand-in owner feeds", () => {
  it("tells an organization from a user, and 404s an unknown owner", async () => {
    expect(await (await get("/users/acme-org")).json()).toMatchObject({
      login: "Acme-Org",
      type: "Organization",
    });
    expect(await (await get("/users/ALICE")).json()).toMatchObject({ login: "alice", type: "User" });
    expect((await get("/users/nobody-here")).status).toBe(404);
    expect((await get("/orgs/alice/events")).status).toBe(404);
    expect((await get("/users/nobody-here/events/public")).status).toBe(404);
  });

  it("lists the organization's and the user's pushes, which are on /events too, newest first, 300 at most", async () => {
    const org = (await (await get("/orgs/acme-org/events?per_page=100")).json()) as {
      id: string;
      repo: { name: string };
      org?: { login: string };
    }[];
    expect(org.length).toBeGreaterThan(10);
    expect(
      org.every((event) => event.repo.name.startsWith("Acme-Org/") && event.org?.login === "Acme-Org"),
    ).toBe(true);
    expect(org.map((event) => BigInt(event.id))).toEqual(
      [...org.map((event) => BigInt(event.id))].sort((a, b) => (b > a ? 1 : -1)),
    );
    const user = (await (await get("/users/alice/events/public?per_page=100")).json()) as {
      actor: { login: string };
    }[];
    expect(user.every((event) => event.actor.login === "alice")).toBe(true);
    const page3 = (await (await get("/orgs/acme-org/events?per_page=100&page=3")).json()) as unknown[];
    const page4 = (await (await get("/orgs/acme-org/events?per_page=100&page=4")).json()) as unknown[];
    expect([page3.length, page4.length]).toEqual([100, 0]);
  });

  it("answers 304 to the feed's ETag without spending rate limit, and names its poll interval", async () => {
    const first = await get("/users/alice/events/public");
    const etag = first.headers.get("etag") ?? "";
    expect(first.headers.get("x-poll-interval")).toBe("60");
    const again = await get("/users/alice/events/public", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(Number(again.headers.get("x-ratelimit-used"))).toBe(Number(first.headers.get("x-ratelimit-used")));
    standIn.advance(60_000);
    expect((await get("/users/alice/events/public", { "if-none-match": etag })).status).toBe(200);
  });

  it("serves feeds that validate against GitHub's list-repo-events schema", { timeout: 60_000 }, async () => {
    const validate = responseValidator("list-repo-events.json");
    const repo = ((await (await get("/orgs/acme-org/events")).json()) as { repo: { name: string } }[])[0]
      ?.repo.name;
    for (const path of ["/orgs/acme-org/events", "/users/alice/events/public", `/repos/${repo}/events`]) {
      expect(validate(await (await get(`${path}?per_page=100`)).json()), path).toEqual([]);
    }
  });
});
