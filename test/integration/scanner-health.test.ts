import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScannerHealth, recordScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

describe("scanner health items", () => {
  let tables: TestTables;
  beforeAll(async () => {
    tables = await createTestTables();
  });
  afterAll(() => tables.client.destroy());

  it("keeps the last ok time through a failed run and drops the failed run's stale coverage", async () => {
    const { client, names } = tables;
    await recordScannerHealth(client, names.state, {
      scanner: "events_poller",
      lastRunAt: "2026-12-01T10:00:00.000Z",
      outcome: "ok",
      coverage: 0.97,
      backlog: 12,
    });
    await recordScannerHealth(client, names.state, {
      scanner: "events_poller",
      lastRunAt: "2026-12-01T10:01:00.000Z",
      outcome: "failed",
      detail: "GitHub answered 401",
    });

    const [poller] = await readScannerHealth(client, names.state);

    expect(poller).toEqual({
      scanner: "events_poller",
      lastRunAt: "2026-12-01T10:01:00.000Z",
      outcome: "failed",
      lastOkAt: "2026-12-01T10:00:00.000Z",
      detail: "GitHub answered 401",
    });
  });

  it("lists channels in a fixed order and leaves out those that never ran", async () => {
    const { client, names } = tables;
    await recordScannerHealth(client, names.state, {
      scanner: "partner_webhook",
      lastRunAt: "2026-12-01T09:00:00.000Z",
      outcome: "ok",
    });
    await recordScannerHealth(client, names.state, {
      scanner: "code_search",
      lastRunAt: "2026-12-01T09:00:00.000Z",
      outcome: "skipped",
    });

    const scanners = (await readScannerHealth(client, names.state)).map((h) => h.scanner);

    expect(scanners).toEqual(["events_poller", "code_search", "partner_webhook"]);
  });
});
