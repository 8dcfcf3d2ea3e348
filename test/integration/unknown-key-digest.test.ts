import { beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { createNotificationLedger } from "../../lambdas/adapters/notification-ledger.js";
import { createUnknownKeyWindows } from "../../lambdas/adapters/unknown-key-windows.js";
import type { Finding, FindingSource } from "../../lambdas/domain/finding.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import type { Alert } from "../../lambdas/domain/security-alert.js";
import {
  DIGEST_EXAMPLES,
  DIGEST_GRACE_MS,
  DIGEST_WINDOW_MS,
  type DigestDeps,
  MAX_WINDOW_KEYS,
  sendUnknownKeyDigests,
} from "../../lambdas/domain/unknown-key-digest.js";
import { makeUnknownKeyDigestHandler } from "../../lambdas/handlers/unknown-key-digest.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

let db: TestTables;
let clock: ReturnType<typeof fixedClock>;
let published: Alert[];
let deps: DigestDeps;

// Start of a window, so "after the window" is easy to reach.
const WINDOW_START = "2026-03-01T10:00:00.000Z";

beforeEach(async () => {
  db = await createTestTables();
  clock = fixedClock(WINDOW_START);
  published = [];
  deps = {
    windows: createUnknownKeyWindows(db.client, db.names.incidents),
    incidents: createIncidentRepository(db.client, db.names.incidents),
    ledger: createNotificationLedger(db.client, db.names.notifications),
    async publish(alert) {
      published.push(alert);
    },
    clock,
  };
});

function unknownFinding(source: FindingSource, extra: Partial<Finding> = {}): Finding {
  const key = generateKey();
  return {
    keyHash: keyHash(key),
    redacted: redactKey(key),
    source,
    location: { url: "https://github.com/octo/demo/blob/abc/x.env", kind: "commit" },
    seenAt: clock.now().toISOString(),
    ...extra,
  };
}

const record = () => createFindingRecorder({ client: db.client, tables: db.names, clock });
const pastWindow = () => clock.advance(DIGEST_WINDOW_MS + DIGEST_GRACE_MS + 1_000);

describe("unknown keys in one window", () => {
  it("alert once per source, with counts and examples, and never again", async () => {
    await record()(Array.from({ length: 150 }, () => unknownFinding("github_partner")));
    await record()(Array.from({ length: 3 }, () => unknownFinding("github_event")));

    const beforeClose = await sendUnknownKeyDigests(deps);
    pastWindow();
    const first = await sendUnknownKeyDigests(deps);
    const second = await sendUnknownKeyDigests(deps);

    expect(beforeClose.sent).toBe(0);
    expect(first.sent).toBe(2);
    expect(second).toEqual({ sent: 0, alreadySent: 0, inFlight: 0 });
    const partner = published.find((a) => a.message.source === "github_partner");
    expect(partner?.message).toMatchObject({
      kind: "unknown_key_digest",
      distinctKeys: 150,
      windowStart: WINDOW_START,
    });
    expect(partner?.message.examples).toHaveLength(DIGEST_EXAMPLES);
    expect(partner?.attributes).toEqual({
      severity: "medium",
      source: ["github_partner"],
      kind: "unknown_key_digest",
    });
    expect(published.find((a) => a.message.source === "github_event")?.message.distinctKeys).toBe(3);
  });

  it("count a replayed key once, and a key seen again in a later window not at all", async () => {
    const finding = unknownFinding("github_partner");
    await record()([finding]);
    await record()([
      finding,
      { ...finding, location: { url: "https://github.com/octo/other", kind: "commit" } },
    ]);
    pastWindow();
    await sendUnknownKeyDigests(deps);
    await record()([{ ...finding, location: { url: "https://github.com/octo/third", kind: "commit" } }]);
    pastWindow();
    await sendUnknownKeyDigests(deps);

    expect(published).toHaveLength(1);
    expect(published[0]?.message.distinctKeys).toBe(1);
  });

  it("keep the report ids of reports that carried them, and their occurrences carry none", async () => {
    const [outcome] = await record()([
      unknownFinding("user_report", { reportId: "rep-1", location: { kind: "report_form" } }),
    ]);
    pastWindow();
    await sendUnknownKeyDigests(deps);

    expect(published[0]?.message.reportIds).toEqual(["rep-1"]);
    const details = await deps.incidents.get(outcome?.incidentId ?? "");
    expect(details?.kind).toBe("unknown_key");
    const occurrences = (
      await createIncidentRepository(db.client, db.names.incidents).details(outcome?.incidentId ?? "")
    )?.occurrences;
    expect(occurrences?.[0]?.reportId).toBeUndefined();
  });

  it("are not noted at all when every key is registered", async () => {
    const { rawKey } = await issueKey("p", "owner@example.com", {
      keys: (await import("../../lambdas/adapters/dynamodb-key-repository.js")).createKeyRepository(
        db.client,
        db.names.keys,
      ),
      clock,
    });
    await record()([
      { ...unknownFinding("github_event"), keyHash: keyHash(rawKey), redacted: redactKey(rawKey) },
    ]);
    pastWindow();
    expect((await sendUnknownKeyDigests(deps)).sent).toBe(0);
  });
});

describe("a window whose digest is being sent", () => {
  it("takes no more keys: a late writer's keys land in the next window's digest", async () => {
    const windows = createUnknownKeyWindows(db.client, db.names.incidents);
    await windows.note("github_event", clock.now(), { keyHashes: ["a".repeat(64)], reportIds: [] });
    await windows.seal("github_event", WINDOW_START, clock.now());
    await windows.note("github_event", clock.now(), { keyHashes: ["b".repeat(64)], reportIds: [] });
    clock.advance(2 * DIGEST_WINDOW_MS + DIGEST_GRACE_MS + 1_000);
    await sendUnknownKeyDigests(deps);

    expect(published.map((a) => [a.message.windowStart, a.message.distinctKeys])).toEqual([
      [WINDOW_START, 1],
      [new Date(Date.parse(WINDOW_START) + DIGEST_WINDOW_MS).toISOString(), 1],
    ]);
  });
});

describe("a digest whose publish fails", () => {
  it("stays pending and is sent by the next run", async () => {
    await record()([unknownFinding("github_code_search")]);
    pastWindow();
    const failing: DigestDeps = { ...deps, publish: () => Promise.reject(new Error("SNS down")) };

    await expect(sendUnknownKeyDigests(failing)).rejects.toThrow("SNS down");
    const retry = await sendUnknownKeyDigests(deps);

    expect(retry.sent).toBe(1);
    expect(published).toHaveLength(1);
  });
});

describe("a window past its key cap", () => {
  it("keeps MAX_WINDOW_KEYS hashes and counts the rest", async () => {
    const windows = createUnknownKeyWindows(db.client, db.names.incidents);
    for (let chunk = 0; chunk < MAX_WINDOW_KEYS / 100 + 2; chunk++) {
      const keyHashes = Array.from({ length: 100 }, (_, i) =>
        (chunk * 100 + i).toString(16).padStart(64, "0"),
      );
      await windows.note("github_partner", clock.now(), { keyHashes, reportIds: [] });
    }
    pastWindow();
    await sendUnknownKeyDigests(deps);

    expect(published).toHaveLength(1);
    expect(published[0]?.message.distinctKeys).toBe(MAX_WINDOW_KEYS);
    expect(published[0]?.message.moreFindingsNotDeduplicated).toBe(200);
  });
});

describe("the scheduled handler", () => {
  it("refuses anything but an EventBridge schedule event before any work", async () => {
    const handler = makeUnknownKeyDigestHandler({ ...deps, logger: { info() {} } });
    await expect(handler({ source: "evil" })).rejects.toThrow();
    await expect(
      handler({ source: "aws.events", "detail-type": "Scheduled Event", time: clock.now().toISOString() }),
    ).resolves.toEqual({ sent: 0, alreadySent: 0, inFlight: 0 });
  });
});
