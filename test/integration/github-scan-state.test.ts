import { beforeAll, describe, expect, it } from "vitest";
import { createGitHubScanState, EVENT_CLAIM_LEASE_MS } from "../../lambdas/adapters/github-scan-state.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

let db: TestTables;
let clock = new Date("2026-11-26T10:00:00.000Z").getTime();
const stateAt = () =>
  createGitHubScanState({ client: db.client, tableName: db.names.state, now: () => new Date(clock) });
let n = 0;
const nextId = () => String(40_000_000_000 + n++);

beforeAll(async () => {
  db = await createTestTables();
});

describe("claiming public events", () => {
  it("gives an event to one run only while its claim is fresh", async () => {
    const id = nextId();
    expect(await stateAt().claimEvents([id])).toEqual(new Set([id]));
    clock += EVENT_CLAIM_LEASE_MS - 1_000;
    expect(await stateAt().claimEvents([id])).toEqual(new Set());
  });

  it("gives an event again when the run that claimed it died before completing it", async () => {
    const id = nextId();
    await stateAt().claimEvents([id]);
    clock += EVENT_CLAIM_LEASE_MS + 1_000;
    expect(await stateAt().claimEvents([id])).toEqual(new Set([id]));
  });

  it("never gives a completed event again", async () => {
    const id = nextId();
    const state = stateAt();
    await state.claimEvents([id]);
    await state.completeEvents([id]);
    clock += EVENT_CLAIM_LEASE_MS * 10;
    expect(await stateAt().claimEvents([id])).toEqual(new Set());
  });
});
