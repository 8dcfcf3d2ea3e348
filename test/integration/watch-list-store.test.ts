import { beforeAll, describe, expect, it } from "vitest";
import { createWatchListStore, type WatchListAdmin } from "../../lambdas/adapters/watch-list-store.js";
import { WatchTargetSchema } from "../../lambdas/domain/watch-list.js";
import { createTestTables } from "../support/dynamodb.js";

let store: WatchListAdmin;
const at = "2026-01-01T00:00:00.000Z";
const target = (raw: string) => WatchTargetSchema.parse(raw);

beforeAll(async () => {
  const { client, names } = await createTestTables();
  store = createWatchListStore({ client, tableName: names.watchList });
});

describe("watch-list store on DynamoDB", () => {
  it("adds once per project and target, whatever the case", async () => {
    expect(await store.add({ project: "p1", target: target("Octo-Org"), addedAt: at })).toBe(true);
    expect(await store.add({ project: "p1", target: target("octo-org"), addedAt: at })).toBe(false);
    expect(await store.add({ project: "p2", target: target("octo-org"), addedAt: at })).toBe(true);
    const entries = (await store.listEntries()).filter((entry) => entry.target.id === "octo-org");
    expect(entries.map((entry) => [entry.project, entry.target.owner])).toEqual([
      ["p1", "Octo-Org"],
      ["p2", "octo-org"],
    ]);
  });

  it("lists every entry", async () => {
    for (let i = 0; i < 60; i++) {
      await store.add({ project: "many", target: target(`owner-${i}/repo${i}`), addedAt: at });
    }
    expect((await store.listEntries()).filter((entry) => entry.project === "many")).toHaveLength(60);
  });

  it("keeps a feed cursor with optimistic versions", async () => {
    expect(
      await store.saveFeedCursor({
        feedId: "owner:cursor-test",
        etag: 'W/"1"',
        ownerType: "User",
        version: 0,
      }),
    ).toBe(true);
    const saved = (await store.loadFeedCursors()).get("owner:cursor-test");
    expect(saved).toMatchObject({ etag: 'W/"1"', ownerType: "User", version: 1 });
    // A run that read version 0 and saves after another run did loses.
    expect(await store.saveFeedCursor({ feedId: "owner:cursor-test", version: 0 })).toBe(false);
  });

  it("removes idempotently, and drops the feed's cursor with its last watcher", async () => {
    await store.add({ project: "a", target: target("gone/repo"), addedAt: at });
    await store.add({ project: "b", target: target("gone/repo"), addedAt: at });
    await store.saveFeedCursor({ feedId: "repo:gone/repo", newestId: "5", version: 0 });
    expect((await store.remove("a", target("GONE/REPO")))?.project).toBe("a");
    expect((await store.loadFeedCursors()).has("repo:gone/repo")).toBe(true);
    expect(await store.remove("a", target("gone/repo"))).toBeUndefined();
    await store.remove("b", target("gone/repo"));
    expect((await store.loadFeedCursors()).has("repo:gone/repo")).toBe(false);
  });
});
