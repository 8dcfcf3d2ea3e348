import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder, InvalidFindingError } from "../../lambdas/adapters/finding-recorder.js";
import type { Finding, FindingSource, RecordFindings } from "../../lambdas/domain/finding.js";
import { incidentIdFor } from "../../lambdas/domain/incident.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import {
  RECORD_CHUNK_KEYS,
  RECORD_CONCURRENCY,
  RecordFindingsInterruptedError,
} from "../../lambdas/domain/record-findings.js";
import { TransitionNotAllowedError, transitionIncident } from "../../lambdas/domain/transition-incident.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

let db: TestTables;
let record: RecordFindings;
const clock = fixedClock("2026-03-01T10:00:00.000Z");

beforeAll(async () => {
  db = await createTestTables();
  record = createFindingRecorder({ client: db.client, tables: db.names, clock });
});

const keys = () => createKeyRepository(db.client, db.names.keys);
const incidents = () => createIncidentRepository(db.client, db.names.incidents);

async function registeredKey(project = "proj-1") {
  return issueKey(project, "owner@example.com", { keys: keys(), clock });
}

function findingFor(rawKey: string, path: string, source: FindingSource = "github_event"): Finding {
  return {
    keyHash: keyHash(rawKey),
    redacted: redactKey(rawKey),
    source,
    location: {
      repo: "octo/demo",
      commit: "abc123",
      path,
      url: `https://github.com/octo/demo/blob/abc123/${path}`,
    },
    seenAt: clock.now().toISOString(),
  };
}

describe("a finding of a registered key", () => {
  it("opens one incident and reports a new occurrence", async () => {
    const { rawKey } = await registeredKey();
    const [outcome] = await record([findingFor(rawKey, "a.env")]);
    expect(outcome).toMatchObject({ keyHash: keyHash(rawKey), status: "registered", newOccurrence: true });
    const incident = await incidents().get(outcome?.incidentId ?? "");
    expect(incident).toMatchObject({ kind: "leaked_key", state: "open", opening: 1, occurrenceCount: 1 });
  });

  it("quarantines the key with the incident id", async () => {
    const { rawKey } = await registeredKey();
    const [outcome] = await record([findingFor(rawKey, "a.env")]);
    const key = await keys().get(keyHash(rawKey));
    expect(key).toMatchObject({
      status: "compromised",
      incidentId: outcome?.incidentId,
      compromisedAt: expect.any(String),
    });
  });

  it("is idempotent when the same finding is delivered twice", async () => {
    const { rawKey } = await registeredKey();
    const [first] = await record([findingFor(rawKey, "a.env")]);
    const [second] = await record([findingFor(rawKey, "a.env")]);
    expect(second).toMatchObject({ incidentId: first?.incidentId, newOccurrence: false });
    expect((await incidents().get(first?.incidentId ?? ""))?.occurrenceCount).toBe(1);
  });

  it("keeps the report id on the occurrence", async () => {
    const { rawKey } = await registeredKey();
    const [outcome] = await record([{ ...findingFor(rawKey, "r.txt", "user_report"), reportId: "rep-123" }]);
    const details = await incidents().details(outcome?.incidentId ?? "");
    expect(details?.occurrences[0]?.reportId).toBe("rep-123");
  });

  it("returns outcomes in input order across keys", async () => {
    const a = await registeredKey();
    const b = await registeredKey();
    const outcomes = await record([
      findingFor(a.rawKey, "1"),
      findingFor(b.rawKey, "1"),
      findingFor(a.rawKey, "1"),
    ]);
    expect(outcomes.map((o) => [o.keyHash, o.newOccurrence])).toEqual([
      [keyHash(a.rawKey), true],
      [keyHash(b.rawKey), true],
      [keyHash(a.rawKey), false],
    ]);
  });
});

describe("20 concurrent recordFindings for one key", () => {
  it("give one incident, one occurrence per distinct location and one opening", async () => {
    const { rawKey } = await registeredKey();
    const locations = Array.from({ length: 10 }, (_, i) => `file-${i}.env`);
    const calls = Array.from({ length: 20 }, (_, i) =>
      record([findingFor(rawKey, locations[i % 10] as string)]),
    );

    const outcomes = (await Promise.all(calls)).flat();

    expect(new Set(outcomes.map((o) => o.incidentId)).size).toBe(1);
    expect(outcomes.filter((o) => o.newOccurrence)).toHaveLength(10);
    const details = await incidents().details(outcomes[0]?.incidentId ?? "");
    expect(details?.occurrences).toHaveLength(10);
    expect(details?.incident.occurrenceCount).toBe(10);
    expect(details?.audit.filter((a) => a.action === "opened")).toHaveLength(1);
  });
});

describe("a key that is not in the registry", () => {
  it("becomes an unknown_key record without a project", async () => {
    const rawKey = generateKey();
    const [outcome] = await record([findingFor(rawKey, "x")]);
    expect(outcome?.status).toBe("unknown");
    const incident = await incidents().get(outcome?.incidentId ?? "");
    expect(incident).toMatchObject({ kind: "unknown_key", state: "open" });
    expect(incident?.projectId).toBeUndefined();
  });

  it("is listed with the unknown keys, not with the incidents", async () => {
    const [outcome] = await record([findingFor(generateKey(), "x")]);
    const unknown = await incidents().list({ kind: "unknown_key", limit: 100 });
    const leaks = await incidents().list({ limit: 100 });
    expect(unknown.incidents.map((i) => i.incidentId)).toContain(outcome?.incidentId);
    expect(leaks.incidents.map((i) => i.incidentId)).not.toContain(outcome?.incidentId);
  });
});

describe("a resolved incident", () => {
  async function resolvedIncident() {
    const { rawKey } = await registeredKey();
    const [outcome] = await record([findingFor(rawKey, "first.env")]);
    const incidentId = outcome?.incidentId ?? "";
    clock.advance(1000);
    await transitionIncident(incidentId, "resolve", "user:alice", { incidents: incidents(), clock });
    return { rawKey, incidentId };
  }

  it("reopens (opening 2) when the key is seen at a new location", async () => {
    const { rawKey, incidentId } = await resolvedIncident();
    clock.advance(1000);
    await record([findingFor(rawKey, "second.env")]);
    const details = await incidents().details(incidentId);
    expect(details?.incident).toMatchObject({ state: "open", opening: 2 });
    expect(details?.audit.map((a) => a.action)).toEqual(["opened", "resolved", "reopened"]);
  });

  it("stays resolved when a known location is seen again", async () => {
    const { rawKey, incidentId } = await resolvedIncident();
    const [outcome] = await record([findingFor(rawKey, "first.env")]);
    expect(outcome?.newOccurrence).toBe(false);
    expect((await incidents().get(incidentId))?.state).toBe("resolved");
  });

  it("stays resolved when only a user report names a new location (a report alone never reopens)", async () => {
    const { rawKey, incidentId } = await resolvedIncident();
    clock.advance(1000);
    const [outcome] = await record([
      {
        ...findingFor(rawKey, "x"),
        source: "user_report",
        reportId: "rep-new",
        location: { kind: "report_form", url: "https://evil.example/new" },
      },
    ]);
    const details = await incidents().details(incidentId);
    expect(outcome?.newOccurrence).toBe(false);
    expect(details?.incident).toMatchObject({ state: "resolved", opening: 1, occurrenceCount: 1 });
    expect(details?.audit.map((a) => a.action)).toEqual(["opened", "resolved"]);
  });

  it("reopens once when several new locations race", async () => {
    const { rawKey, incidentId } = await resolvedIncident();
    await Promise.all(["n1", "n2", "n3", "n4"].map((p) => record([findingFor(rawKey, p)])));
    const details = await incidents().details(incidentId);
    expect(details?.incident.opening).toBe(2);
    expect(details?.audit.filter((a) => a.action === "reopened")).toHaveLength(1);
  });
});

describe("transitionIncident", () => {
  it("records the actor in the audit trail", async () => {
    const { rawKey } = await registeredKey();
    const [outcome] = await record([findingFor(rawKey, "a")]);
    clock.advance(1000);
    await transitionIncident(outcome?.incidentId ?? "", "acknowledge", "user:bob", {
      incidents: incidents(),
      clock,
    });
    const details = await incidents().details(outcome?.incidentId ?? "");
    expect(details?.audit.at(-1)).toMatchObject({
      action: "acknowledged",
      from: "open",
      to: "acknowledged",
      actor: "user:bob",
    });
  });

  it("rejects a move the rules don't allow", async () => {
    const { rawKey } = await registeredKey();
    const [outcome] = await record([findingFor(rawKey, "a")]);
    await expect(
      transitionIncident(outcome?.incidentId ?? "", "reopen", "user:bob", { incidents: incidents(), clock }),
    ).rejects.toBeInstanceOf(TransitionNotAllowedError);
  });
});

describe("listing incidents", () => {
  it("pages most recent first without repeating an incident", async () => {
    const local = await createTestTables();
    const localRecord = createFindingRecorder({ client: local.client, tables: local.names, clock });
    const repo = createIncidentRepository(local.client, local.names.incidents);
    const localKeys = createKeyRepository(local.client, local.names.keys);
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      const { rawKey } = await issueKey("p", "o@example.com", { keys: localKeys, clock });
      await localRecord([findingFor(rawKey, "a")]);
    }
    const first = await repo.list({ limit: 3 });
    const second = await repo.list({ limit: 3, cursor: first.cursor });
    const all = [...first.incidents, ...second.incidents];
    expect(all).toHaveLength(5);
    expect(all.map((i) => i.updatedAt)).toEqual([...all.map((i) => i.updatedAt)].sort().reverse());
    expect(second.cursor).toBeUndefined();
  });
});

describe("the registry", () => {
  it("stores only the hash and redacted form, never the raw key", async () => {
    const { rawKey } = await registeredKey();
    const out = await db.client.send(
      new GetCommand({ TableName: db.names.keys, Key: { keyHash: keyHash(rawKey) } }),
    );
    expect(JSON.stringify(out.Item)).not.toContain(rawKey);
    expect(out.Item).toMatchObject({ keyId: keyHash(rawKey).slice(0, 16), redacted: redactKey(rawKey) });
  });

  it("never holds a raw key in the incidents table either", async () => {
    const { rawKey } = await registeredKey();
    await record([findingFor(rawKey, "z")]);
    const out = await db.client.send(new ScanCommand({ TableName: db.names.incidents }));
    expect(JSON.stringify(out.Items)).not.toContain(rawKey);
  });
});

describe("invalid findings", () => {
  it("are rejected with a clear error before anything is written", async () => {
    const bad = { ...findingFor(generateKey(), "a"), keyHash: "not-a-hash" };
    await expect(record([bad])).rejects.toBeInstanceOf(InvalidFindingError);
  });
});

describe("a flood of findings in one call", () => {
  it("records 250 keys (three chunks) with at most RECORD_CONCURRENCY DynamoDB calls in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const counting = new Proxy(db.client, {
      get(target, property, receiver) {
        if (property !== "send") return Reflect.get(target, property, receiver);
        return async (command: Parameters<typeof target.send>[0]) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          try {
            return await target.send(command);
          } finally {
            inFlight--;
          }
        };
      },
    });
    const registered = await registeredKey();
    const findings = [findingFor(registered.rawKey, "flood.env")];
    for (let i = 0; i < 249; i++) findings.push(findingFor(generateKey(), "flood.env"));
    const flood = createFindingRecorder({ client: counting, tables: db.names, clock });

    const outcomes = await flood(findings);

    expect(outcomes).toHaveLength(250);
    expect(outcomes.filter((o) => o.status === "registered")).toHaveLength(1);
    expect((await keys().get(keyHash(registered.rawKey)))?.status).toBe("compromised");
    // Window notes run beside the pool (one per source per chunk), so allow one more than the pool.
    expect(peak).toBeLessThanOrEqual(RECORD_CONCURRENCY + 1);
  });

  it("stops between chunks when asked, with everything before the stop fully recorded", async () => {
    const findings = Array.from({ length: RECORD_CHUNK_KEYS * 2 }, () =>
      findingFor(generateKey(), "stop.env"),
    );
    let asked = 0;
    const stop = record(findings, { shouldStop: () => ++asked > 1 });
    await expect(stop).rejects.toBeInstanceOf(RecordFindingsInterruptedError);
    const firstChunk = await Promise.all(
      findings.slice(0, RECORD_CHUNK_KEYS).map((f) => incidents().get(incidentIdFor(f.keyHash))),
    );
    expect(firstChunk.every(Boolean)).toBe(true);
    expect(await incidents().get(incidentIdFor(findings.at(-1)?.keyHash ?? ""))).toBeUndefined();
  });
});

describe("a flood stopped early", () => {
  it("has recorded its registered keys first, wherever they were in the input", async () => {
    const { rawKey } = await registeredKey();
    const findings = Array.from({ length: RECORD_CHUNK_KEYS * 2 }, () =>
      findingFor(generateKey(), "late.env"),
    );
    findings.push(findingFor(rawKey, "late.env"));
    let asked = 0;

    await expect(record(findings, { shouldStop: () => ++asked > 1 })).rejects.toBeInstanceOf(
      RecordFindingsInterruptedError,
    );

    expect((await keys().get(keyHash(rawKey)))?.status).toBe("compromised");
    expect(await incidents().get(incidentIdFor(keyHash(rawKey)))).toMatchObject({ kind: "leaked_key" });
  });
});

describe("a location that holds a key", () => {
  it("is dropped before it is stored, even percent-encoded or split by a zero-width space", async () => {
    const hidden = generateKey();
    const { rawKey } = await registeredKey();
    const [outcome] = await record([
      {
        ...findingFor(rawKey, "ok.env"),
        location: {
          url: `https://example.com/p?k=%${hidden.charCodeAt(0).toString(16)}${hidden.slice(1)}`,
          path: `${hidden.slice(0, 9)}\u200B${hidden.slice(9)}.txt`,
          repo: "octo/demo",
        },
      },
    ]);
    const details = await incidents().details(outcome?.incidentId ?? "");
    expect(details?.occurrences[0]?.location).toEqual({ repo: "octo/demo" });
    const dump = await db.client.send(new ScanCommand({ TableName: db.names.incidents }));
    expect(JSON.stringify(dump.Items)).not.toContain(hidden.slice(10));
  });
});
