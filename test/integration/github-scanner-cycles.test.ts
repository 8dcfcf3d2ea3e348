import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubScanState } from "../../lambdas/adapters/github-scan-state.js";
import { createCodeSearchSweepCycle, createEventsPollCycle } from "../../lambdas/adapters/github-scanners.js";
import { readScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import {
  createRecordedShapeEventStream,
  type GitHubStandIn,
  startGitHubStandIn,
} from "../../standin/github/github-stand-in.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { collectingRecorder } from "../support/github-scanning.js";

let standIn: GitHubStandIn;
let tables: TestTables;

beforeEach(async () => {
  tables = await createTestTables();
  const stream = createRecordedShapeEventStream({ count: 80, plantedKeys: 2, pushRatio: 0.3, seed: 5 });
  standIn = await startGitHubStandIn({ stream, publishAll: true });
});

afterEach(async () => {
  await standIn.stop();
  tables.client.destroy();
});

function wiring(overrides: { tokenIsPlaceholder?: boolean } = {}) {
  return {
    apiUrl: standIn.url,
    token: "test-token",
    client: tables.client,
    stateTable: tables.names.state,
    recordFindings: collectingRecorder().record,
    prefixes: ["smk_"],
    timeoutMs: 5_000,
    ...overrides,
  };
}

describe("a scheduled run", () => {
  it("records its health: coverage, backlog and counts of the poll", async () => {
    await createEventsPollCycle(wiring()).run(Date.now() + 30_000);

    const [health] = await readScannerHealth(tables.client, tables.names.state);

    expect(health).toMatchObject({
      scanner: "events_poller",
      outcome: "ok",
      coverage: 1,
      backlog: 0,
      counts: expect.objectContaining({ pushesDiffed: expect.any(Number), eventsNew: 80 }),
    });
  });

  it("skips every run while the token is the placeholder: no GitHub call, health 'skipped'", async () => {
    const counters = await createEventsPollCycle(wiring({ tokenIsPlaceholder: true })).run(
      Date.now() + 30_000,
    );

    const health = await readScannerHealth(tables.client, tables.names.state);

    expect({
      skipped: counters.skipped,
      requests: standIn.requests.length,
      health: health[0]?.outcome,
    }).toEqual({
      skipped: "token_placeholder",
      requests: 0,
      health: "skipped",
    });
  });

  it("records a 401 as a failed run with a clear detail", async () => {
    standIn.injectFault({ path: "/search/code", kind: "unauthorized" });

    const counters = await createCodeSearchSweepCycle(wiring()).run(Date.now() + 30_000);

    const [health] = await readScannerHealth(tables.client, tables.names.state);
    expect([counters.stopped, health?.scanner, health?.outcome, health?.detail]).toEqual([
      "unauthorized",
      "code_search",
      "failed",
      expect.stringMatching(/401/),
    ]);
  });

  it("doesn't start while another run holds the lease (one run at a time without reserved concurrency)", async () => {
    const state = createGitHubScanState({ client: tables.client, tableName: tables.names.state });
    const held = await state.acquireRunLease("events_poller", Date.now() + 60_000);

    const counters = await createEventsPollCycle(wiring()).run(Date.now() + 30_000);

    expect([held !== undefined, counters.skipped, standIn.requests.length]).toEqual([
      true,
      "overlapping_run",
      0,
    ]);
  });

  it("takes over a lease whose run died (its deadline passed)", async () => {
    const state = createGitHubScanState({ client: tables.client, tableName: tables.names.state });
    await state.acquireRunLease("events_poller", Date.now() - 1_000);

    const counters = await createEventsPollCycle(wiring()).run(Date.now() + 30_000);

    expect([counters.skipped, counters.eventsSeen]).toEqual([undefined, 80]);
  });
});
