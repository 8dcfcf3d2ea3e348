import { beforeEach, describe, expect, it } from "vitest";
import { createAnomalyRepository } from "../../lambdas/adapters/anomaly-repository.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createConsoleAnomalies } from "../../lambdas/adapters/console-anomalies.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import type { Finding } from "../../lambdas/domain/finding.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import { makeConsoleApiHandler } from "../../lambdas/handlers/console-api.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { httpEvent } from "../support/http-event.js";

const clock = fixedClock("2026-03-10T12:00:00.000Z");

function finding(raw: string, url: string): Finding {
  return {
    keyHash: keyHash(raw),
    redacted: redactKey(raw),
    source: "github_event",
    location: { url, repo: "octo/demo", path: "config.js", line: 3 },
    seenAt: clock.now().toISOString(),
  };
}

interface World {
  t: TestTables;
  api: ReturnType<typeof makeConsoleApiHandler>;
  leakId: string;
  unknownId: string;
}

async function world(actorOf: () => string | undefined = () => "user:alice"): Promise<World> {
  const t = await createTestTables();
  const keys = createKeyRepository(t.client, t.names.keys);
  const issued = await issueKey("proj-1", "owner@example.com", { keys, clock });
  const record = createFindingRecorder({ client: t.client, tables: t.names, clock });
  const [leak, unknown] = await record([
    finding(issued.rawKey, "https://github.com/octo/demo/blob/abc/config.js"),
    finding(generateKey(), "https://github.com/octo/other/blob/abc/x.js"),
  ]);
  const api = makeConsoleApiHandler({
    incidents: createIncidentRepository(t.client, t.names.incidents),
    anomalies: createConsoleAnomalies(t.client, t.names.anomalies, clock),
    clock,
    actorOf,
  });
  return { t, api, leakId: leak?.incidentId as string, unknownId: unknown?.incidentId as string };
}

function body(result: { body?: string }) {
  return JSON.parse(result.body ?? "null");
}

function act(w: World, action: unknown, headers = { "content-type": "application/json" }) {
  return w.api(
    httpEvent("POST /api/incidents/{id}/actions", {
      pathParameters: { id: w.leakId },
      headers,
      body: JSON.stringify({ action, reason: "checked with the owner" }),
    }),
  );
}

describe("GET /api/incidents", () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  it("lists leaked-key incidents with state, severity, sources and occurrence count", async () => {
    const result = await w.api(httpEvent("GET /api/incidents"));
    const listed = body(result).incidents.map((i: Record<string, unknown>) => [
      i.incidentId,
      i.state,
      i.severity,
      i.sources,
      i.occurrenceCount,
    ]);
    expect(listed).toEqual([[w.leakId, "open", "high", ["github_event"], 1]]);
  });

  it("lists unknown-key findings separately", async () => {
    const result = await w.api(httpEvent("GET /api/incidents", { query: { kind: "unknown_key" } }));
    expect(body(result).incidents.map((i: { incidentId: string }) => i.incidentId)).toEqual([w.unknownId]);
  });

  it("rejects an unknown query parameter value with 400", async () => {
    const result = await w.api(httpEvent("GET /api/incidents", { query: { state: "exploded" } }));
    expect(result.statusCode).toBe(400);
  });
});

describe("GET /api/incidents/{id}", () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  it("returns the incident with its occurrences and audit trail", async () => {
    const result = await w.api(httpEvent("GET /api/incidents/{id}", { pathParameters: { id: w.leakId } }));
    const details = body(result);
    expect({
      urls: details.occurrences.map((o: { location: { url: string } }) => o.location.url),
      audit: details.audit.map((a: { action: string }) => a.action),
    }).toEqual({ urls: ["https://github.com/octo/demo/blob/abc/config.js"], audit: ["opened"] });
  });

  it("answers 404 for an incident that does not exist", async () => {
    const result = await w.api(
      httpEvent("GET /api/incidents/{id}", { pathParameters: { id: "inc_00000000000000000000" } }),
    );
    expect(result.statusCode).toBe(404);
  });

  it("answers 400 for a malformed id", async () => {
    const result = await w.api(httpEvent("GET /api/incidents/{id}", { pathParameters: { id: "../../etc" } }));
    expect(result.statusCode).toBe(400);
  });
});

describe("POST /api/incidents/{id}/actions", () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  it("acknowledges the incident and records who did it in the audit trail", async () => {
    const result = await act(w, "acknowledge");
    const details = body(
      await w.api(httpEvent("GET /api/incidents/{id}", { pathParameters: { id: w.leakId } })),
    );
    expect({
      status: result.statusCode,
      state: details.incident.state,
      entry: details.audit
        .filter((a: { action: string }) => a.action === "acknowledged")
        .map((a: { actor: string; from: string }) => [a.actor, a.from]),
    }).toEqual({ status: 200, state: "acknowledged", entry: [["user:alice", "open"]] });
  });

  it("refuses an action without a reason with 400 and changes nothing", async () => {
    const result = await w.api(
      httpEvent("POST /api/incidents/{id}/actions", {
        pathParameters: { id: w.leakId },
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: "resolve" }),
      }),
    );
    const details = body(
      await w.api(httpEvent("GET /api/incidents/{id}", { pathParameters: { id: w.leakId } })),
    );
    expect([result.statusCode, details.incident.state]).toEqual([400, "open"]);
  });

  it("refuses a move the incident's state does not allow with 409", async () => {
    expect((await act(w, "reopen")).statusCode).toBe(409);
  });

  it("rejects an unknown action with 400 and changes nothing", async () => {
    const result = await act(w, "delete_everything");
    const details = body(
      await w.api(httpEvent("GET /api/incidents/{id}", { pathParameters: { id: w.leakId } })),
    );
    expect([result.statusCode, details.incident.state]).toEqual([400, "open"]);
  });

  it("requires a JSON body (a cross-site form post gets 415)", async () => {
    const result = await act(w, "acknowledge", { "content-type": "application/x-www-form-urlencoded" });
    expect(result.statusCode).toBe(415);
  });

  it("answers 401 when no actor can be established", async () => {
    const anonymous = await world(() => undefined);
    const result = await act(anonymous, "acknowledge");
    expect(result.statusCode).toBe(401);
  });
});

describe("GET /api/anomalies/daily", () => {
  it("counts anomalies per type per day within the window", async () => {
    const w = await world();
    const anomaly = (type: "rate_spike" | "new_country", windowStart: string, keyId: string) => ({
      subject: `KEY#${keyId}`,
      anomaly: {
        type,
        severity: "medium" as const,
        keyId,
        windowStart,
        windowEnd: new Date(Date.parse(windowStart) + 60_000).toISOString(),
        count: 1,
      },
    });
    await createAnomalyRepository(w.t.client, w.t.names.anomalies, { clock }).save([
      anomaly("rate_spike", "2026-03-09T10:00:00.000Z", "00000000000000a1"),
      anomaly("rate_spike", "2026-03-09T11:00:00.000Z", "00000000000000a2"),
      anomaly("new_country", "2026-03-10T01:00:00.000Z", "00000000000000a1"),
      anomaly("new_country", "2026-01-01T01:00:00.000Z", "00000000000000a1"),
    ]);
    const result = await w.api(httpEvent("GET /api/anomalies/daily", { query: { days: "7" } }));
    expect(body(result).counts).toEqual([
      { day: "2026-03-09", type: "rate_spike", count: 2 },
      { day: "2026-03-10", type: "new_country", count: 1 },
    ]);
  });
});
